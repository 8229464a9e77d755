using System.Text;
using System.Text.RegularExpressions;
using Ferry.Shared.Metadata;
using Npgsql;

namespace Ferry.Worker.Introspection;

/// <param name="WindowThresholdRows">Tables with at least this many rows are extracted by window instead of reloaded in full.</param>
/// <param name="WindowDays">The window's length for the tables that get one.</param>
/// <param name="Force">Overwrite table files that already exist.</param>
public sealed record GenerateOptions(long WindowThresholdRows = 100_000, int WindowDays = 7, bool Force = false);

public enum GenerateOutcome
{
    /// <summary>A new file was written.</summary>
    Written,
    /// <summary>The file existed and was replaced (--force).</summary>
    Overwritten,
    /// <summary>The file exists; left alone.</summary>
    Exists,
    /// <summary>Another file already describes this table (or uses its name); left alone.</summary>
    Covered,
    /// <summary>No primary key and no unique NOT NULL index: STG cannot merge it without a key chosen by hand.</summary>
    NoKey,
}

/// <summary>What generate did with one source table. <see cref="Table"/> is the metadata written (or that would have been).</summary>
public sealed record GeneratedTable(IntrospectedTable Source, SourceTable? Table, string? File, GenerateOutcome Outcome, string? Note);

public sealed record GenerateReport(string Source, IReadOnlyList<GeneratedTable> Tables, IReadOnlyList<string> Warnings)
{
    public int Written => Tables.Count(t => t.Outcome is GenerateOutcome.Written or GenerateOutcome.Overwritten);
}

/// <summary>
/// `ferry metadata generate`: describes every table of a source and writes one metadata file per
/// table: key from the primary key, <c>full</c> below the row threshold, otherwise <c>window</c> over
/// the created/updated/deleted timestamps, with a header listing the columns for whoever edits it next.
/// </summary>
public static partial class MetadataGenerator
{
    public static async Task<GenerateReport> GenerateAsync(string metadataDirectory, string sourceName, GenerateOptions options, CancellationToken ct = default)
    {
        var connections = MetadataLoader.LoadConnections(metadataDirectory);
        var connection = connections.Source(sourceName);

        var warnings = new List<string>();
        IReadOnlyList<SourceTable> existing = [];
        try
        {
            existing = MetadataLoader.Load(metadataDirectory).Tables;
        }
        catch (MetadataException e)
        {
            warnings.Add($"the existing table files have {e.Errors.Count} error(s), so only file names are checked for tables already described (run `ferry metadata validate`)");
        }

        await using var dataSource = NpgsqlDataSource.Create(connection.ToConnectionString("ferry metadata generate"));
        var tables = await new SourceIntrospector(dataSource).ListBaseTablesAsync(includeRowEstimates: true, ct);
        return Write(connections.Root, sourceName, tables, existing, options, warnings);
    }

    /// <summary>Plans and writes the files for already-introspected tables.</summary>
    public static GenerateReport Write(string metadataDirectory, string sourceName, IReadOnlyList<IntrospectedTable> tables,
        IReadOnlyList<SourceTable> existing, GenerateOptions options, IList<string>? warnings = null)
    {
        warnings ??= [];
        var folder = Path.Combine(metadataDirectory, MetadataLoader.TablesFolder, sourceName);
        var names = ProcessNames(tables);
        var results = new List<GeneratedTable>();
        foreach (var table in tables)
        {
            var name = names[table.Name];
            var file = Path.Combine(folder, name + ".yaml");
            var key = table.BestKey;
            if (key is null)
            {
                results.Add(new(table, null, null, GenerateOutcome.NoKey, "no primary key or unique NOT NULL index: write this file by hand with the key to merge on"));
                continue;
            }

            var (planned, note) = Plan(sourceName, table, name, key, options);
            planned = planned with { File = file };
            var describedBy = existing.FirstOrDefault(e => e.Source == sourceName && e.Schema == table.Name.Schema && e.Table == table.Name.Name);
            var nameTakenBy = existing.FirstOrDefault(e => e.ProcessId == planned.ProcessId || (e.Source == sourceName && e.StgTable == planned.StgTable));
            if (describedBy is not null && !SamePath(describedBy.File, file))
            {
                results.Add(new(table, planned, describedBy.File, GenerateOutcome.Covered, $"already described by {describedBy.File}"));
                continue;
            }
            if (describedBy is null && nameTakenBy is not null && !SamePath(nameTakenBy.File, file))
            {
                results.Add(new(table, planned, nameTakenBy.File, GenerateOutcome.Covered, $"{planned.ProcessId} is taken by {nameTakenBy.File} ({nameTakenBy.Schema}.{nameTakenBy.Table}): write this file by hand with another name:"));
                continue;
            }
            var exists = File.Exists(file);
            if (exists && !options.Force)
            {
                results.Add(new(table, planned, file, GenerateOutcome.Exists, "file exists (--force to overwrite)"));
                continue;
            }

            Directory.CreateDirectory(folder);
            var temporary = file + ".tmp";
            File.WriteAllText(temporary, Render(planned, table, key));
            File.Move(temporary, file, overwrite: true);
            results.Add(new(table, planned, file, exists ? GenerateOutcome.Overwritten : GenerateOutcome.Written, note));
        }
        return new GenerateReport(sourceName, results, warnings.ToArray());
    }

    /// <summary>The metadata for one table, and a note when a choice needs a person's attention.</summary>
    public static (SourceTable Table, string? Note) Plan(string sourceName, IntrospectedTable table, string name, IntrospectedKey key, GenerateOptions options)
    {
        var rows = table.Rows?.Rows ?? 0;
        var notes = new List<string>();
        if (!key.IsPrimaryKey) notes.Add($"key from unique index {key.IndexName}");

        var cdc = CdcSpec.Full;
        if (rows >= options.WindowThresholdRows)
        {
            if (table.Changes.SupportsWindow)
                cdc = new CdcSpec(CdcMode.Window, table.Changes.WindowColumns, Days: options.WindowDays, FullEvery: TimeSpan.FromDays(7));
            else
                notes.Add($"{rows:N0} rows but no created/updated timestamp column: reloaded in full");
        }
        var stgTable = StgTableName(sourceName, name);
        var source = new SourceTable(sourceName, table.Name.Schema, table.Name.Name, name, stgTable, key.Columns, cdc, ChunkingSpec.Default,
            SoftDeleteColumn: table.Changes.Deleted, KeySweep: cdc.Mode != CdcMode.Full);
        return (source, notes.Count == 0 ? null : string.Join("; ", notes));
    }

    /// <summary>
    /// The table name where it is a plain identifier and unique across schemas; otherwise
    /// schema_table, with anything but letters, digits and underscores turned into underscores.
    /// </summary>
    private static Dictionary<QualifiedName, string> ProcessNames(IReadOnlyList<IntrospectedTable> tables)
    {
        var plain = tables.GroupBy(t => Sanitize(t.Name.Name)).ToDictionary(g => g.Key, g => g.Count());
        var used = new HashSet<string>(StringComparer.Ordinal);
        var names = new Dictionary<QualifiedName, string>();
        // Public tables first, so they keep the plain name when another schema has the same table.
        foreach (var t in tables.OrderBy(t => t.Name.Schema == QualifiedName.DefaultSchema ? 0 : 1))
        {
            var baseName = Sanitize(t.Name.Name);
            var name = plain[baseName] == 1 || (t.Name.Schema == QualifiedName.DefaultSchema && !used.Contains(baseName))
                ? baseName
                : Sanitize(t.Name.Schema + "_" + t.Name.Name);
            var unique = name;
            for (var i = 2; !used.Add(unique); i++) unique = $"{name}_{i}";
            names[t.Name] = unique;
        }
        return names;
    }

    [GeneratedRegex("[^A-Za-z0-9_]")]
    private static partial Regex NotNameCharacter();

    private static string Sanitize(string name) => NotNameCharacter().Replace(name, "_") is { Length: > 0 } s ? s : "table";

    /// <summary><c>&lt;source&gt;_&lt;name&gt;</c>, shortened with a hash suffix past PostgreSQL's 63-byte limit.</summary>
    private static string StgTableName(string source, string name)
    {
        var full = $"{source}_{name}";
        if (Encoding.UTF8.GetByteCount(full) <= 63) return full;
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(full)))[..8].ToLowerInvariant();
        return full[..54] + "_" + hash;
    }

    private static bool SamePath(string? a, string b) =>
        a is not null && string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), StringComparison.Ordinal);

    /// <summary>The YAML file: a comment header describing the source table, then the metadata.</summary>
    public static string Render(SourceTable t, IntrospectedTable source, IntrospectedKey key)
    {
        var sb = new StringBuilder();
        sb.Append($"# {t.Source} {Comment(source.Name.ToString())}: {source.Rows?.ToString() ?? "row count unknown"}\n");
        sb.Append("# Written by `ferry metadata generate`; edit freely: it is only rewritten with --force.\n");
        sb.Append("#\n# columns:\n");
        var width = source.Columns.Count == 0 ? 0 : source.Columns.Max(c => Comment(c.Name).Length);
        var typeWidth = source.Columns.Count == 0 ? 0 : source.Columns.Max(c => Comment(c.Type).Length);
        foreach (var c in source.Columns)
        {
            var notes = new List<string>();
            if (c.NotNull) notes.Add("not null");
            if (key.Columns.Contains(c.Name)) notes.Add(key.IsPrimaryKey ? "primary key" : $"unique ({key.IndexName})");
            sb.Append($"#   {Comment(c.Name).PadRight(width)}  {Comment(c.Type).PadRight(typeWidth)}  {string.Join(", ", notes)}".TrimEnd()).Append('\n');
        }
        sb.Append('\n');
        sb.Append($"source: {Scalar(t.Source)}\n");
        sb.Append($"table: {Scalar(new QualifiedName(t.Schema, t.Table).ToString())}\n");
        if (t.Name != t.Table) sb.Append($"name: {Scalar(t.Name)}\n");
        if (t.StgTable != $"{t.Source}_{t.Name}") sb.Append($"stg_table: {Scalar(t.StgTable)}\n");
        sb.Append($"key: {List(t.Key)}\n");
        sb.Append("cdc:\n");
        sb.Append($"  mode: {t.Cdc.Mode.ToString().ToLowerInvariant()}\n");
        if (t.Cdc.Mode == CdcMode.Window)
        {
            sb.Append($"  columns: {List(t.Cdc.Columns)}\n");
            sb.Append($"  days: {t.Cdc.Days}\n");
        }
        if (t.SoftDeleteColumn is not null) sb.Append($"soft_delete_column: {Scalar(t.SoftDeleteColumn)}\n");
        if (t.KeySweep) sb.Append("key_sweep: true\n");
        // A window misses updates that leave its columns alone; a weekly complete extract bounds how long (README).
        if (t.Cdc.FullEvery is { } every) sb.Append($"full_every: {Ferry.Worker.Stg.CompleteExtract.Format(every)}\n");
        return sb.ToString();
    }

    private static string List(IEnumerable<string> items) => "[" + string.Join(", ", items.Select(Scalar)) + "]";

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_.]*$")]
    private static partial Regex PlainScalar();

    private static readonly HashSet<string> YamlWords = new(StringComparer.OrdinalIgnoreCase) { "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~" };

    /// <summary>A YAML scalar that reads back as exactly this text: plain when safe, else double-quoted.</summary>
    internal static string Scalar(string value)
    {
        if (PlainScalar().IsMatch(value) && !YamlWords.Contains(value)) return value;
        var sb = new StringBuilder("\"");
        foreach (var ch in value)
            sb.Append(ch switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                _ when char.IsControl(ch) => $"\\u{(int)ch:x4}",
                _ => ch.ToString(),
            });
        return sb.Append('"').ToString();
    }

    private static string Comment(string text) => new(text.Select(ch => char.IsControl(ch) ? ' ' : ch).ToArray());
}
