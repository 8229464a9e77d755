using System.Text.RegularExpressions;

namespace Ferry.Shared.Metadata.Yaml;

/// <summary>
/// Reads metadata/files/&lt;name&gt;.yaml, one files process each (<c>files.&lt;name&gt;</c>): the source table
/// that lists the objects, its columns, the source and target object stores and the target key layout.
/// </summary>
internal static partial class FilesFile
{
    public const string Folder = "files";

    private static readonly string[] Keys = ["source", "table", "columns", "source_store", "target_store", "target_key", "window_days", "parallelism", "referenced_by"];
    private static readonly string[] ColumnKeys = ["key", "size", "checksum", "checksum_format", "created_at", "deleted"];
    private static readonly Dictionary<string, ChecksumFormat> Formats = new(StringComparer.Ordinal)
    {
        ["md5_hex"] = ChecksumFormat.Md5Hex, ["md5_base64"] = ChecksumFormat.Md5Base64,
    };

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Placeholder();

    /// <summary>Every *.yaml / *.yml directly under metadata/files/ (the folder is optional), in name order.</summary>
    public static List<FilesDefinition> ReadFolder(string root, MigrationConnections? connections, ICollection<MetadataError> errors, MetadataSourceMap positions)
    {
        var result = new List<FilesDefinition>();
        var folder = Path.Combine(root, Folder);
        if (!Directory.Exists(folder)) return result;
        var files = Directory.EnumerateFiles(folder)
            .Where(p => p.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || p.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal);
        foreach (var file in files)
        {
            string text;
            try
            {
                text = System.IO.File.ReadAllText(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                errors.Add(new MetadataError(file, null, null, $"cannot read: {e.Message}"));
                continue;
            }
            var fileErrors = new List<MetadataError>();
            var document = YamlTree.Parse(text, file, fileErrors);
            if (fileErrors.Count > 0)
            {
                foreach (var e in fileErrors) errors.Add(e);
                continue;
            }
            if (Read(root, file, document, connections, errors, positions) is not { } definition) continue;
            if (result.FirstOrDefault(d => d.ProcessId == definition.ProcessId) is { } other)
                errors.Add(new MetadataError(file, null, null, $"duplicate process {definition.ProcessId}: already defined by {other.File} (rename one of the files)"));
            else
                result.Add(definition);
        }
        return result;
    }

    public static FilesDefinition? Read(string root, string file, YNode? document, MigrationConnections? connections,
        ICollection<MetadataError> errors, MetadataSourceMap positions)
    {
        var before = errors.Count;
        var name = Path.GetFileNameWithoutExtension(file);
        if (!ConnectionsFile.SimpleName().IsMatch(name))
        {
            errors.Add(new MetadataError(file, null, null, $"file name '{name}' must be letters, digits and underscores (it is the process id files.<name>)"));
            return null;
        }
        if (document is not YMapping map)
        {
            errors.Add(document is null
                ? new MetadataError(file, null, null, "file is empty (expected source, table, columns, source_store, target_store and target_key)")
                : new MetadataError(file, document.Start.Line, document.Start.Column,
                    $"expected key: value lines (source, table, columns, source_store, target_store, target_key), found {document.Kind}"));
            return null;
        }
        var f = new MappingFields(map, file, errors, null, Keys);
        void Mark(string path, TextPosition at) => positions.Add(file, path, at.Line, at.Column);

        var source = f.String("source", required: true);
        if (source is not null)
        {
            var at = f.Node("source")!.Start;
            Mark("source", at);
            if (connections is not null && !connections.Sources.ContainsKey(source))
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

        Columns? columns = f.Mapping("columns", required: true) is { } columnsMap ? ReadColumns(columnsMap, file, errors, Mark) : null;

        ObjectStoreConfig? Store(string key)
        {
            if (f.Mapping(key, required: true) is not { } storeMap) return null;
            Mark(key, storeMap.Start);
            return ConnectionsFile.ReadObjectStore(root, storeMap, file, errors, key, defaultPrefix: "", defaultEnv: "");
        }
        var sourceStore = Store("source_store");
        var targetStore = Store("target_store");

        var targetKey = f.String("target_key", required: true);
        if (targetKey is not null)
        {
            var at = f.Node("target_key")!.Start;
            Mark("target_key", at);
            if (CheckTargetKey(targetKey) is { } why)
            {
                f.Error(at, $"'target_key' {why}, found '{targetKey}'");
                targetKey = null;
            }
        }

        ObjectReference? referencedBy = null;
        if (f.String("referenced_by") is { } referenceText)
        {
            var at = f.Node("referenced_by")!.Start;
            Mark("referenced_by", at);
            var parts = referenceText.Split('.');
            if (parts.Length == 3 && parts.All(p => p.Trim().Length > 0 && p == p.Trim()))
                referencedBy = new ObjectReference(parts[0], parts[1], parts[2]);
            else
                f.Error(at, $"'referenced_by' must be schema.table.column (the BL column holding the copies' target keys, e.g. unipacc.attachments.target_key), found '{referenceText}'");
        }

        var windowDays = f.Int("window_days", 1, 36500) ?? FilesDefinition.DefaultWindowDays;
        var parallelism = f.Int("parallelism", 1, 256) ?? FilesDefinition.DefaultParallelism;

        if (errors.Count != before || source is null || table is null || columns is null || sourceStore is null || targetStore is null || targetKey is null)
            return null;
        return new FilesDefinition(name, source, table.Value.Schema, table.Value.Name, columns.Key, columns.Size, columns.Checksum,
            columns.Format, columns.CreatedAt, columns.Deleted, sourceStore, targetStore, targetKey, windowDays, parallelism, file)
        {
            ReferencedBy = referencedBy,
        };
    }

    private sealed record Columns(string Key, string Size, string? Checksum, ChecksumFormat Format, string CreatedAt, string? Deleted);

    private static Columns? ReadColumns(YMapping map, string file, ICollection<MetadataError> errors, Action<string, TextPosition> mark)
    {
        var before = errors.Count;
        var f = new MappingFields(map, file, errors, "columns", ColumnKeys);
        string? Column(string key, bool required)
        {
            var value = f.String(key, required);
            if (value is not null) mark($"columns.{key}", f.Node(key)!.Start);
            return value;
        }
        var key = Column("key", required: true);
        var size = Column("size", required: true);
        var checksum = Column("checksum", required: false);
        var createdAt = Column("created_at", required: true);
        var deleted = Column("deleted", required: false);

        var format = ChecksumFormat.Md5Hex;
        if (f.String("checksum_format") is { } formatText)
        {
            if (checksum is null)
                f.Error(f.KeyPosition("checksum_format")!.Value, "'columns.checksum_format' applies only with 'columns.checksum'");
            else if (Formats.TryGetValue(formatText, out var parsed))
                format = parsed;
            else
                f.Error(f.Node("checksum_format")!.Start, $"invalid checksum format '{formatText}' (expected one of: {string.Join(", ", Formats.Keys)})");
        }

        if (errors.Count != before || key is null || size is null || createdAt is null) return null;
        return new Columns(key, size, checksum, format, createdAt, deleted);
    }

    /// <summary>Why a target key template is unusable, or null: it needs {key} once, no other placeholder, and must make valid keys.</summary>
    private static string? CheckTargetKey(string template)
    {
        var placeholders = Placeholder().Matches(template).Select(m => m.Value).ToList();
        if (placeholders.FirstOrDefault(p => p != FilesDefinition.KeyPlaceholder) is { } other)
            return $"has an unknown placeholder {other} (only {FilesDefinition.KeyPlaceholder} is replaced)";
        if (placeholders.Count != 1)
            return $"must contain {FilesDefinition.KeyPlaceholder} exactly once (the object's source key)";
        try
        {
            Storage.ObjectKey.Validate(template.Replace(FilesDefinition.KeyPlaceholder, "k", StringComparison.Ordinal));
            return null;
        }
        catch (ArgumentException e)
        {
            // "invalid object key 'x': why (Parameter 'key')" → why
            var message = e.Message.Split(" (Parameter", 2)[0];
            var colon = message.IndexOf("': ", StringComparison.Ordinal);
            return "does not make valid object keys: " + (colon >= 0 ? message[(colon + 3)..] : message);
        }
    }
}
