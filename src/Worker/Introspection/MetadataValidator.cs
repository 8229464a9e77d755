using Ferry.Shared.Metadata;
using Npgsql;

namespace Ferry.Worker.Introspection;

/// <summary>
/// What <c>ferry metadata validate</c> found. <see cref="Problems"/> make the metadata unusable;
/// <see cref="Warnings"/> are worth a look (a key no unique index guarantees) but do not fail.
/// </summary>
public sealed record ValidationReport(IReadOnlyList<MetadataError> Problems, IReadOnlyList<MetadataError> Warnings, int TablesChecked, int SourcesChecked)
{
    /// <summary>BL transforms compiled against the target.</summary>
    public int TransformsChecked { get; init; }

    /// <summary>Files processes whose listing and stores were checked.</summary>
    public int FilesChecked { get; init; }

    public bool Ok => Problems.Count == 0;
}

/// <summary>
/// Checks loaded metadata against the live sources: every source answers, every table exists,
/// its key, CDC and soft-delete columns exist, and CDC columns are timestamps or dates; then the BL
/// transforms against the target and the files processes' listings and stores (<see cref="ProcessValidator"/>).
/// Each problem names the metadata file and line that is wrong.
/// </summary>
public static class MetadataValidator
{
    public static async Task<ValidationReport> ValidateAsync(MigrationMetadata metadata, MetadataSourceMap? positions = null, CancellationToken ct = default)
    {
        positions ??= MetadataSourceMap.Empty;
        var problems = new List<MetadataError>();
        var warnings = new List<MetadataError>();
        var connectionsFile = Path.Combine(metadata.Root, MetadataLoader.ConnectionsFileName);
        var checkedTables = 0;
        var checkedSources = 0;

        foreach (var (name, connection) in metadata.Sources.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var tables = metadata.Tables.Where(t => t.Source == name).ToList();
            IReadOnlyDictionary<QualifiedName, IntrospectedTable> found;
            IReadOnlyList<IntrospectedTable>? all = null;
            try
            {
                await using var dataSource = NpgsqlDataSource.Create(connection.ToConnectionString("ferry metadata validate"));
                var introspector = new SourceIntrospector(dataSource);
                found = await introspector.DescribeAsync(tables.Select(t => new QualifiedName(t.Schema, t.Table)), ct);
                if (tables.Any(t => !found.ContainsKey(new QualifiedName(t.Schema, t.Table))))
                    all = await introspector.ListBaseTablesAsync(includeRowEstimates: false, ct);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or ArgumentException or TimeoutException)
            {
                var skipped = tables.Count == 0 ? "" : $"; its {tables.Count} table(s) were not checked";
                problems.Add(positions.Error(connectionsFile, $"sources.{name}", $"source {connection} cannot be checked: {e.Message}{skipped}"));
                continue;
            }
            checkedSources++;

            foreach (var table in tables.OrderBy(t => t.File, StringComparer.Ordinal))
            {
                checkedTables++;
                Check(table, found.GetValueOrDefault(new QualifiedName(table.Schema, table.Table)), all, positions, problems, warnings);
            }
        }
        var transforms = await ProcessValidator.CheckTransformsAsync(metadata, problems, warnings, ct);
        var files = await ProcessValidator.CheckFilesAsync(metadata, positions, problems, ct);
        return new ValidationReport(problems, warnings, checkedTables, checkedSources) { TransformsChecked = transforms, FilesChecked = files };
    }

    private static void Check(SourceTable table, IntrospectedTable? actual, IReadOnlyList<IntrospectedTable>? all,
        MetadataSourceMap positions, List<MetadataError> problems, List<MetadataError> warnings)
    {
        var file = table.File ?? table.ProcessId;
        var qualified = new QualifiedName(table.Schema, table.Table);
        if (actual is null)
        {
            var closest = all is null ? null : NameSuggestion.Closest(qualified.ToString(), all.Select(t => t.Name.ToString()));
            problems.Add(positions.Error(file, "table",
                $"table {qualified} does not exist on source {table.Source}{(closest is null ? "" : $" (did you mean {closest}?)")}"));
            return;
        }

        string Missing(string role, string column) =>
            $"{role} '{column}' does not exist in {qualified}" +
            (NameSuggestion.Closest(column, actual.Columns.Select(c => c.Name)) is { } s ? $" (did you mean '{s}'?)" : "");

        for (var i = 0; i < table.Key.Count; i++)
            if (actual.Column(table.Key[i]) is null)
                problems.Add(positions.Error(file, $"key[{i}]", Missing("key column", table.Key[i])));

        var cdcColumns = table.Cdc.Mode switch
        {
            CdcMode.Window => table.Cdc.Columns.Select((c, i) => (Column: c, Path: $"cdc.columns[{i}]")),
            CdcMode.Watermark when table.Cdc.WatermarkColumn is { } w => [(w, "cdc.column")],
            _ => [],
        };
        foreach (var (column, path) in cdcColumns)
        {
            if (actual.Column(column) is not { } c)
                problems.Add(positions.Error(file, path, Missing("cdc column", column)));
            else if (!c.IsTimestamp)
                problems.Add(positions.Error(file, path, $"cdc column '{column}' of {qualified} is {c.Type}: {table.Cdc.Mode.ToString().ToLowerInvariant()} mode needs a timestamp, timestamptz or date column"));
        }

        if (table.SoftDeleteColumn is { } softDelete && actual.Column(softDelete) is null)
            problems.Add(positions.Error(file, "soft_delete_column", Missing("soft_delete_column", softDelete)));

        // Obfuscation rules (applied in DEV extracts): the column exists and its type is one the rule serves.
        foreach (var (column, rule) in table.Obfuscate ?? new Dictionary<string, ObfuscationRule>())
        {
            if (actual.Column(column) is not { } c)
                problems.Add(positions.Error(file, $"obfuscate.{column}", Missing("obfuscated column", column)));
            else if (Obfuscation.ObfuscationPlan.IsJudgedByDeclaredType(c.Type) && Obfuscation.ObfuscationPlan.Needs(rule.Kind, c.Type) is { } needs)
                problems.Add(positions.Error(file, $"obfuscate.{column}",
                    $"obfuscation rule {rule.RuleName} on column {column} of {qualified} cannot serve its type {c.Type} (it needs {needs})"));
        }

        if (table.Key.All(k => actual.Column(k) is not null) && actual.Kind is RelationKind.Table or RelationKind.PartitionedTable)
        {
            if (!actual.IsUniqueKey(table.Key))
                warnings.Add(positions.Error(file, "key[0]",
                    $"key ({string.Join(", ", table.Key)}) is not the primary key or a unique index of {qualified}: rows sharing a key would overwrite each other in STG"));
            foreach (var k in table.Key.Where(k => actual.Column(k)!.NotNull == false))
                warnings.Add(positions.Error(file, $"key[{table.Key.ToList().IndexOf(k)}]", $"key column '{k}' of {qualified} allows NULL"));
        }
    }
}
