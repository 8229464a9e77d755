using System.Text;

namespace Ferry.Shared.Metadata.Yaml;

/// <summary>Reads one metadata/tables/&lt;source&gt;/&lt;name&gt;.yaml into a <see cref="SourceTable"/>.</summary>
internal static class TableFile
{
    private static readonly string[] Keys = ["source", "table", "name", "stg_table", "key", "cdc", "soft_delete_column", "key_sweep", "full_every", "chunking", "obfuscate"];
    private static readonly string[] CdcKeys = ["mode", "columns", "days", "column", "overlap"];
    private static readonly string[] ChunkingKeys = ["threshold_rows", "rows_per_chunk", "parallelism"];
    private static readonly Dictionary<string, CdcMode> Modes = new(StringComparer.Ordinal)
    {
        ["full"] = CdcMode.Full, ["window"] = CdcMode.Window, ["watermark"] = CdcMode.Watermark,
    };

    /// <summary>Which cdc keys belong to which mode.</summary>
    private static readonly Dictionary<string, CdcMode> KeyModes = new(StringComparer.Ordinal)
    {
        ["columns"] = CdcMode.Window, ["days"] = CdcMode.Window, ["column"] = CdcMode.Watermark, ["overlap"] = CdcMode.Watermark,
    };

    /// <summary>Watermark runs re-read this much before the newest change in STG, for late-committing transactions.</summary>
    public static readonly TimeSpan DefaultOverlap = TimeSpan.FromMinutes(10);

    /// <summary>PostgreSQL truncates longer names (NAMEDATALEN - 1 bytes).</summary>
    private const int MaxIdentifierBytes = 63;

    public static SourceTable? Read(string file, YNode? document, string? folderSource, MigrationConnections? connections,
        ICollection<MetadataError> errors, MetadataSourceMap positions)
    {
        var before = errors.Count;
        if (document is not YMapping map)
        {
            errors.Add(document is null
                ? new MetadataError(file, null, null, "file is empty (expected source, table, key and cdc)")
                : new MetadataError(file, document.Start.Line, document.Start.Column, $"expected key: value lines (source, table, key, cdc), found {document.Kind}"));
            return null;
        }
        var f = new MappingFields(map, file, errors, null, Keys);
        void Mark(string path, TextPosition at) => positions.Add(file, path, at.Line, at.Column);

        var source = f.String("source", required: true);
        if (source is not null)
        {
            var at = f.Node("source")!.Start;
            Mark("source", at);
            if (folderSource is not null && source != folderSource)
                f.Error(at, $"source '{source}' does not match the folder tables/{folderSource}/ this file is in");
            else if (connections is not null && !connections.Sources.ContainsKey(source))
                f.Error(at, $"unknown source '{source}' (connections.yaml defines: {string.Join(", ", connections.Sources.Keys)})");
        }

        QualifiedName? table = null;
        if (f.String("table", required: true) is { } tableText)
        {
            var at = f.Node("table")!.Start;
            Mark("table", at);
            if (QualifiedName.TryParse(tableText, out var parsed, out var why)) table = parsed;
            else f.Error(at, $"'table' must be table or schema.table: {why}, found '{tableText}'");
        }

        var name = f.String("name");
        if (name is not null)
        {
            Mark("name", f.Node("name")!.Start);
            if (!ConnectionsFile.SimpleName().IsMatch(name))
            {
                f.Error(f.Node("name")!.Start, $"'name' must be letters, digits and underscores (it is part of the process id), found '{name}'");
                name = null;
            }
        }
        else if (table is { } t)
        {
            if (ConnectionsFile.SimpleName().IsMatch(t.Name)) name = t.Name;
            else f.Error(f.Node("table")!.Start, $"table name '{t.Name}' cannot be a process name: add name: with letters, digits and underscores");
        }

        var stgTable = f.String("stg_table");
        if (stgTable is not null) Mark("stg_table", f.Node("stg_table")!.Start);
        else if (source is not null && name is not null) stgTable = $"{source}_{name}";
        if (stgTable is not null && Encoding.UTF8.GetByteCount(stgTable) > MaxIdentifierBytes)
        {
            f.Error(f.Node("stg_table")?.Start ?? f.Node("name")?.Start ?? f.Node("table")?.Start ?? f.Start,
                $"STG table name '{stgTable}' is longer than PostgreSQL's {MaxIdentifierBytes} bytes: set a shorter stg_table");
            stgTable = null;
        }

        var key = f.NameList("key", required: true);
        if (key is not null)
            for (var i = 0; i < key.Count; i++) Mark($"key[{i}]", key[i].At);

        var cdc = f.Mapping("cdc", required: true) is { } cdcMap ? ReadCdc(cdcMap, file, errors, Mark) : null;

        var softDelete = f.String("soft_delete_column");
        if (softDelete is not null) Mark("soft_delete_column", f.Node("soft_delete_column")!.Start);

        var keySweep = f.Bool("key_sweep") ?? false;
        if (keySweep && cdc?.Mode == CdcMode.Full)
            f.Error(f.Node("key_sweep")!.Start, "'key_sweep' applies only to window and watermark tables (a full reload already finds deleted rows)");

        TimeSpan? fullEvery = null;
        if (f.Scalar("full_every", expected: "a duration such as 7d") is { } fe)
        {
            if (Durations.Parse(fe.Value) is { } every && every > TimeSpan.Zero) fullEvery = every;
            else f.Error(fe.Start, $"'full_every' must be a duration such as 12h, 7d or 1d12h, found '{fe.Value}'");
            if (cdc?.Mode == CdcMode.Full)
                f.Error(fe.Start, "'full_every' applies only to window and watermark tables (a full table is read whole every run)");
        }
        if (cdc is not null && fullEvery is not null) cdc = cdc with { FullEvery = fullEvery };

        var chunking = f.Mapping("chunking") is { } chunkMap ? ReadChunking(chunkMap, file, errors) : ChunkingSpec.Default;

        IReadOnlyDictionary<string, ObfuscationRule>? obfuscate = null;
        if (f.Mapping("obfuscate") is { } obfuscateMap)
        {
            // The columns STG itself relies on keep their real values.
            var reserved = new Dictionary<string, string>(StringComparer.Ordinal);
            if (softDelete is not null) reserved[softDelete] = "the soft delete column";
            foreach (var c in cdc?.Columns ?? []) reserved[c] = "a CDC column";
            foreach (var (k, _) in key ?? []) reserved[k] = "part of the key";
            obfuscate = ObfuscateSection.Read(obfuscateMap, file, errors, reserved, Mark);
        }

        if (errors.Count != before || source is null || table is null || name is null || stgTable is null || key is null || cdc is null || chunking is null)
            return null;
        return new SourceTable(source, table.Value.Schema, table.Value.Name, name, stgTable, key.Select(k => k.Value).ToArray(),
            cdc, chunking, softDelete, keySweep, file, obfuscate is { Count: > 0 } ? obfuscate : null);
    }

    private static CdcSpec? ReadCdc(YMapping map, string file, ICollection<MetadataError> errors, Action<string, TextPosition> mark)
    {
        var before = errors.Count;
        var f = new MappingFields(map, file, errors, "cdc", CdcKeys);
        var modeText = f.String("mode", required: true);
        if (modeText is null) return null;
        if (!Modes.TryGetValue(modeText, out var mode))
        {
            f.Error(f.Node("mode")!.Start, $"invalid cdc mode '{modeText}' (expected one of: {string.Join(", ", Modes.Keys)})");
            return null;
        }

        foreach (var (key, keyMode) in KeyModes)
            if (keyMode != mode && f.KeyPosition(key) is { } at)
                f.Error(at, $"'cdc.{key}' applies only to mode {keyMode.ToString().ToLowerInvariant()} (this table's mode is {modeText})");
        if (errors.Count != before) return null;

        switch (mode)
        {
            case CdcMode.Full:
                return CdcSpec.Full;
            case CdcMode.Window:
            {
                var columns = f.NameList("columns", required: true);
                var days = f.Int("days", 1, 36500) ?? 7;
                if (columns is null) return null;
                for (var i = 0; i < columns.Count; i++) mark($"cdc.columns[{i}]", columns[i].At);
                return new CdcSpec(CdcMode.Window, columns.Select(c => c.Value).ToArray(), Days: days);
            }
            default:
            {
                var column = f.String("column", required: true);
                var overlap = DefaultOverlap;
                if (f.Scalar("overlap", expected: "a duration such as 10m") is { } o)
                {
                    if (Durations.Parse(o.Value) is { } parsed) overlap = parsed;
                    else
                    {
                        f.Error(o.Start, $"'cdc.overlap' must be a duration such as 30s, 10m, 2h or 1d, found '{o.Value}'");
                        return null;
                    }
                }
                if (column is null) return null;
                mark("cdc.column", f.Node("column")!.Start);
                // Columns holds the watermark column too, so code that reads the CDC columns generically sees it.
                return new CdcSpec(CdcMode.Watermark, [column], WatermarkColumn: column, Overlap: overlap);
            }
        }
    }

    private static ChunkingSpec? ReadChunking(YMapping map, string file, ICollection<MetadataError> errors)
    {
        var before = errors.Count;
        var f = new MappingFields(map, file, errors, "chunking", ChunkingKeys);
        var d = ChunkingSpec.Default;
        var threshold = f.Long("threshold_rows", 1, long.MaxValue) ?? d.ThresholdRows;
        var perChunk = f.Long("rows_per_chunk", 1, long.MaxValue) ?? d.RowsPerChunk;
        var parallelism = f.Int("parallelism", 1, 64) ?? d.Parallelism;
        return errors.Count == before ? new ChunkingSpec(threshold, perChunk, parallelism) : null;
    }
}
