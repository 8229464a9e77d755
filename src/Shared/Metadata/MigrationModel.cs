using Ferry.Shared.Postgres;

namespace Ferry.Shared.Metadata;

/// <summary>Everything under metadata/: where the data is and which tables move how.</summary>
public sealed record MigrationMetadata(
    string Root,
    IReadOnlyDictionary<string, PgConnection> Sources,
    PgConnection Target,
    ObjectStoreConfig ObjectStore,
    IReadOnlyList<SourceTable> Tables)
{
    public SourceTable? FindTable(string processId) => Tables.FirstOrDefault(t => t.ProcessId == processId);

    /// <summary>The folder that holds metadata/: relative filesystem store paths are relative to it.</summary>
    public string ProjectFolder => MetadataLoader.ProjectFolderOf(Root);

    /// <summary>The BL transforms (target.transforms in connections.yaml), one process each: bl.&lt;schema&gt;.&lt;table&gt;.</summary>
    public IReadOnlyList<Bl.TransformFile> Transforms { get; init; } = [];

    public Bl.TransformFile? FindTransform(string processId) => Transforms.FirstOrDefault(t => t.ProcessId == processId);

    /// <summary>The key indicators (target.checks in connections.yaml): what verify.checks compares between the sources and the target.</summary>
    public IReadOnlyList<Verify.CheckFile> Checks { get; init; } = [];

    /// <summary>The files processes (metadata/files/&lt;name&gt;.yaml), one each: files.&lt;name&gt;.</summary>
    public IReadOnlyList<FilesDefinition> Files { get; init; } = [];

    public FilesDefinition? FindFiles(string processId) => Files.FirstOrDefault(f => f.ProcessId == processId);

    /// <summary>Every process of the migration, in order: STG tables, BL transforms, files processes, then the verify processes that compare them.</summary>
    public IReadOnlyList<string> ProcessIds =>
        [.. Tables.Select(t => t.ProcessId), .. Transforms.Select(t => t.ProcessId), .. Files.Select(f => f.ProcessId), .. Verify.VerifyProcesses.All(this)];

    /// <summary>Whether <paramref name="processId"/> names a process of this migration.</summary>
    public bool HasProcess(string processId) => ProcessIds.Contains(processId, StringComparer.Ordinal);

    /// <summary>From metadata/pipelines.yaml (optional): groups of processes run in sequence, some on a cron schedule.</summary>
    public IReadOnlyList<PipelineDefinition> Pipelines { get; init; } = [];
}

/// <summary>
/// A PostgreSQL connection. The password is never stored here in clear: only a reference such as
/// <c>${QVP_PASSWORD}</c>, resolved from the environment when the connection is opened.
/// </summary>
public sealed record PgConnection(
    string Name,
    string Host,
    int Port,
    string Database,
    string User,
    SecretRef? Password,
    string? SslMode = null,
    int MaxConcurrentExtracts = 4,
    string StgSchema = "stg")
{
    /// <summary>Builds the Npgsql connection string, resolving the password reference now.</summary>
    public string ToConnectionString(string? applicationName = null)
    {
        var b = new Npgsql.NpgsqlConnectionStringBuilder
        {
            Host = Host,
            Port = Port,
            Database = Database,
            Username = User,
            Password = Password?.Resolve(),
            CommandTimeout = 0,
            MaxPoolSize = 50,
        };
        b.DetectDeadPeer(applicationName ?? "ferry");
        if (!string.IsNullOrEmpty(SslMode) && Enum.TryParse<Npgsql.SslMode>(SslMode, ignoreCase: true, out var mode))
            b.SslMode = mode;
        // So that PgConnect names this connection when it cannot be opened.
        PgConnect.Remember(b.ConnectionString, Label);
        return b.ConnectionString;
    }

    /// <summary>What failure messages call this connection: <c>source qvp (db.example:5432/qvp)</c>, <c>target (…)</c>.</summary>
    public string Label => $"{(Name == "target" ? "target" : "source " + Name)} ({Host}:{Port}/{Database})";

    /// <summary>host:port/database as user: safe to print.</summary>
    public override string ToString() => $"{Name} ({User}@{Host}:{Port}/{Database})";
}

/// <summary>
/// A reference to a secret held in the environment: <c>${NAME}</c>. It has no default: a default would
/// be the secret itself, written in the file (the loader refuses <c>${NAME:-value}</c> for secrets).
/// </summary>
public sealed record SecretRef(string Variable)
{
    public string Resolve() =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } v ? v
        : throw new InvalidOperationException($"environment variable {Variable} is not set (referenced as ${{{Variable}}} in metadata)");

    /// <summary>Never the value.</summary>
    public override string ToString() => "${" + Variable + "}";
}

public enum ObjectStoreKind { Filesystem, S3 }

/// <summary>
/// Where extracts (and later attachments) live. S3 covers OCI Object Storage through its Amazon S3
/// Compatibility API: path-style, a customer secret key, region = the OCI region.
/// </summary>
public sealed record ObjectStoreConfig(
    ObjectStoreKind Kind,
    string? Path = null,
    string? Endpoint = null,
    string? Region = null,
    string? Bucket = null,
    SecretRef? AccessKey = null,
    SecretRef? SecretKey = null,
    string Prefix = "ferry",
    string Env = "prod");

public enum CdcMode { Full, Window, Watermark }

/// <summary>
/// How a table's changes are found. <c>Full</c>: every row, every run. <c>Window</c>: rows whose
/// <see cref="Columns"/> fall in the last <see cref="Days"/> days. <c>Watermark</c>: rows whose
/// <see cref="WatermarkColumn"/> is newer than the newest value already in STG minus <see cref="Overlap"/>.
/// </summary>
public sealed record CdcSpec(
    CdcMode Mode,
    IReadOnlyList<string> Columns,
    int Days = 7,
    string? WatermarkColumn = null,
    TimeSpan Overlap = default,
    TimeSpan? FullEvery = null)
{
    public static CdcSpec Full { get; } = new(CdcMode.Full, []);
}

/// <summary>Tables with more rows than <see cref="ThresholdRows"/> are split into key ranges of about <see cref="RowsPerChunk"/> rows.</summary>
public sealed record ChunkingSpec(long ThresholdRows = 2_000_000, long RowsPerChunk = 1_000_000, int Parallelism = 2)
{
    public static ChunkingSpec Default { get; } = new();
}

/// <summary>
/// One source table and how it is staged: one STG process, <c>stg.&lt;source&gt;.&lt;name&gt;</c>.
/// <see cref="Obfuscate"/> (column → rule) applies only in DEV extracts (<see cref="ObfuscationPolicy"/>).
/// </summary>
public sealed record SourceTable(
    string Source,
    string Schema,
    string Table,
    string Name,
    string StgTable,
    IReadOnlyList<string> Key,
    CdcSpec Cdc,
    ChunkingSpec Chunking,
    string? SoftDeleteColumn = null,
    bool KeySweep = false,
    string? File = null,
    IReadOnlyDictionary<string, ObfuscationRule>? Obfuscate = null)
{
    public string ProcessId => $"stg.{Source}.{Name}";
}
