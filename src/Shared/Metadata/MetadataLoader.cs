using Ferry.Shared.Metadata.Yaml;

namespace Ferry.Shared.Metadata;

/// <summary>
/// Reads metadata/: connections.yaml and one file per source table under tables/&lt;source&gt;/.
/// Every file is checked to the end and all errors (syntax, unknown keys, wrong types, missing
/// fields, duplicates across files) are thrown together in one <see cref="MetadataException"/>,
/// each as <c>path:line:column: what is wrong</c>.
/// </summary>
public static class MetadataLoader
{
    public const string ConnectionsFileName = "connections.yaml";
    public const string TablesFolder = "tables";

    public static MigrationMetadata Load(string metadataDirectory) => Load(metadataDirectory, out _);

    /// <summary>The project folder: the one that holds metadata/. Relative filesystem store paths are relative to it.</summary>
    public static string ProjectFolderOf(string metadataDirectory) =>
        Path.GetDirectoryName(Path.GetFullPath(metadataDirectory)) ?? Path.GetFullPath(metadataDirectory);

    /// <summary>Loads everything and says where each value was written (for checks that come later).</summary>
    public static MigrationMetadata Load(string metadataDirectory, out MetadataSourceMap positions)
    {
        var root = RootOf(metadataDirectory);
        var errors = new List<MetadataError>();
        positions = new MetadataSourceMap();
        var connections = ReadConnections(root, errors, positions);
        var tables = ReadTables(root, connections, errors, positions);
        var transforms = ReadTransforms(connections, errors);
        var checks = ReadChecks(connections, errors);
        var files = FilesFile.ReadFolder(root, connections, errors, positions);
        var processIds = tables.Select(t => t.ProcessId).Concat(transforms.Select(t => t.ProcessId)).Concat(files.Select(f => f.ProcessId))
            .Concat(Verify.VerifyProcesses.All(tables, files, checks.Count > 0, transforms.Count > 0)).ToList();
        // A broken file hides the processes it defines (a connections.yaml error hides every transform):
        // references to them in pipelines.yaml would only repeat that error as "matches no process".
        var pipelines = ReadPipelines(root, processIds, processIdsComplete: errors.Count == 0 && connections is not null, errors, positions);
        if (errors.Count > 0 || connections is null)
            throw new MetadataException(errors);
        return new MigrationMetadata(root, connections.Sources, connections.Target, connections.ObjectStore, tables)
        {
            Pipelines = pipelines,
            Transforms = transforms,
            Checks = checks,
            Files = files,
        };
    }

    /// <summary>Only connections.yaml: enough to reach the sources before any table file exists.</summary>
    public static MigrationConnections LoadConnections(string metadataDirectory)
    {
        var root = RootOf(metadataDirectory);
        var errors = new List<MetadataError>();
        var connections = ReadConnections(root, errors, new MetadataSourceMap());
        if (errors.Count > 0 || connections is null)
            throw new MetadataException(errors);
        return connections;
    }

    /// <summary>The folder written as given (so messages show the paths the user typed), without a trailing separator.</summary>
    private static string RootOf(string metadataDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(metadataDirectory);
        var root = Path.TrimEndingDirectorySeparator(metadataDirectory);
        if (!Directory.Exists(root))
            throw new MetadataException(new MetadataError(root, null, null,
                $"metadata folder not found (looked in {Path.GetFullPath(root)}; pass --metadata DIR)"));
        return root;
    }

    private static MigrationConnections? ReadConnections(string root, List<MetadataError> errors, MetadataSourceMap positions)
    {
        var file = Path.Combine(root, ConnectionsFileName);
        if (!File.Exists(file))
        {
            errors.Add(new MetadataError(file, null, null, "file not found (it defines the sources, the target and the object store)"));
            return null;
        }
        var fileErrors = new List<MetadataError>();
        var document = ReadYaml(file, fileErrors);
        if (fileErrors.Count > 0)
        {
            errors.AddRange(fileErrors);
            return null;
        }
        return ConnectionsFile.Read(root, file, document, errors, positions);
    }

    private static List<SourceTable> ReadTables(string root, MigrationConnections? connections, List<MetadataError> errors, MetadataSourceMap positions)
    {
        var tables = new List<SourceTable>();
        var folder = Path.Combine(root, TablesFolder);
        if (!Directory.Exists(folder)) return tables;

        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(p => p.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || p.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var relative = Path.GetRelativePath(folder, file);
            var segments = relative.Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
            var folderSource = segments.Length > 1 ? segments[0] : null;

            var fileErrors = new List<MetadataError>();
            var document = ReadYaml(file, fileErrors);
            if (fileErrors.Count > 0)
            {
                errors.AddRange(fileErrors);
                continue;
            }
            if (TableFile.Read(file, document, folderSource, connections, errors, positions) is { } table)
                tables.Add(table);
        }

        CheckUnique(tables, t => t.ProcessId, "name", t => $"process {t.ProcessId}", "give one of them another name:", errors, positions);
        CheckUnique(tables, t => t.StgTable, "stg_table", t => $"STG table {t.StgTable}", "give one of them another stg_table:", errors, positions);
        return tables;
    }

    /// <summary>Every transform file of target.transforms; each bad one is an error naming its file and line, and two files may not share a target.</summary>
    private static IReadOnlyList<Bl.TransformFile> ReadTransforms(MigrationConnections? connections, List<MetadataError> errors)
    {
        if (connections?.TransformsFolder is not { } folder) return [];
        var transforms = new List<Bl.TransformFile>();
        foreach (var path in Directory.GetFiles(folder, "*.sql").Order(StringComparer.Ordinal))
        {
            try
            {
                var t = Bl.TransformFile.Load(path);
                if (transforms.FirstOrDefault(x => x.Target == t.Target) is { } other)
                    errors.Add(new MetadataError(path, null, null, $"target {Bl.TransformPlan.Show(t.Target)} is also the target of {other.Path}"));
                else
                    transforms.Add(t);
            }
            catch (Bl.TransformFileException e)
            {
                // The message starts with file:line; point at the full path.
                var (line, message) = Bl.TransformFile.SplitLocation(e.Message);
                errors.Add(new MetadataError(path, line, null, message));
            }
            catch (IOException e)
            {
                errors.Add(new MetadataError(path, null, null, $"cannot read: {e.Message}"));
            }
        }
        return transforms;
    }

    /// <summary>Every key indicator of target.checks; each bad one is an error naming its file and line, and each source it queries must be defined.</summary>
    private static IReadOnlyList<Verify.CheckFile> ReadChecks(MigrationConnections? connections, List<MetadataError> errors)
    {
        if (connections?.ChecksFolder is not { } folder) return [];
        var checks = new List<Verify.CheckFile>();
        foreach (var path in Directory.GetFiles(folder, "*.sql").Order(StringComparer.Ordinal))
        {
            try
            {
                var check = Verify.CheckFile.Load(path);
                var unknown = check.Sources.Where(q => !connections.Sources.ContainsKey(q.Source!)).ToList();
                foreach (var q in unknown)
                    errors.Add(new MetadataError(path, q.Line, null, $"unknown source '{q.Source}' (defined: {string.Join(", ", connections.Sources.Keys)})"));
                if (unknown.Count == 0) checks.Add(check);
            }
            catch (Verify.CheckFileException e)
            {
                var (line, message) = Bl.TransformFile.SplitLocation(e.Message);
                errors.Add(new MetadataError(path, line, null, message));
            }
            catch (IOException e)
            {
                errors.Add(new MetadataError(path, null, null, $"cannot read: {e.Message}"));
            }
        }
        return checks;
    }

    /// <summary>metadata/pipelines.yaml is optional: without it there are no pipelines.</summary>
    private static IReadOnlyList<PipelineDefinition> ReadPipelines(string root, IReadOnlyList<string> processIds, bool processIdsComplete,
        List<MetadataError> errors, MetadataSourceMap positions)
    {
        var file = Path.Combine(root, PipelinesFile.FileName);
        if (!File.Exists(file)) return [];
        var fileErrors = new List<MetadataError>();
        var document = ReadYaml(file, fileErrors);
        errors.AddRange(fileErrors);
        return fileErrors.Count > 0 ? [] : PipelinesYaml.Read(file, document, processIds, processIdsComplete, errors, positions);
    }

    /// <summary>Each process id and each STG table belongs to one file; later files that repeat one are errors.</summary>
    private static void CheckUnique(List<SourceTable> tables, Func<SourceTable, string> identity, string field, Func<SourceTable, string> describe,
        string remedy, List<MetadataError> errors, MetadataSourceMap positions)
    {
        var first = new Dictionary<string, SourceTable>(StringComparer.Ordinal);
        foreach (var t in tables.ToList())
        {
            if (first.TryAdd(identity(t), t)) continue;
            var original = first[identity(t)];
            // Point at the field that produced the clash, or at table: when it came from the default.
            string PathIn(SourceTable x) => positions.Find(x.File!, field) is null ? "table" : field;
            var at = positions.Find(original.File!, PathIn(original));
            var where = at is { } p ? $"{original.File}:{p.Line}" : original.File;
            errors.Add(positions.Error(t.File!, PathIn(t), $"duplicate {describe(t)}: already defined by {where} ({remedy})"));
            tables.Remove(t);
        }
    }

    private static YNode? ReadYaml(string file, List<MetadataError> errors)
    {
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add(new MetadataError(file, null, null, $"cannot read: {e.Message}"));
            return null;
        }
        return YamlTree.Parse(text, file, errors);
    }
}
