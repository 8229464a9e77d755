using System.Text.RegularExpressions;

namespace Ferry.Shared.Metadata.Yaml;

/// <summary>Reads metadata/connections.yaml: the sources, the target and the object store.</summary>
internal static partial class ConnectionsFile
{
    private static readonly string[] RootKeys = ["sources", "target", "object_store"];
    private static readonly string[] SourceKeys = ["host", "port", "database", "user", "password", "ssl_mode", "max_concurrent_extracts"];
    private static readonly string[] TargetKeys = ["host", "port", "database", "user", "password", "ssl_mode", "stg_schema", "transforms", "checks"];
    private static readonly string[] StoreKeys = ["kind", "path", "endpoint", "region", "bucket", "access_key", "secret_key", "prefix", "env"];
    private static readonly string[] FilesystemOnly = ["path"];
    private static readonly string[] S3Only = ["endpoint", "region", "bucket", "access_key", "secret_key"];

    /// <summary>libpq spellings (what people write) to Npgsql's <see cref="Npgsql.SslMode"/> names (what <see cref="PgConnection"/> parses).</summary>
    private static readonly Dictionary<string, string> SslModes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["disable"] = "Disable", ["allow"] = "Allow", ["prefer"] = "Prefer", ["require"] = "Require",
        ["verify-ca"] = "VerifyCA", ["verify-full"] = "VerifyFull",
    };

    [GeneratedRegex("^[A-Za-z0-9_]+$")]
    internal static partial Regex SimpleName();

    public static MigrationConnections? Read(string root, string file, YNode? document, ICollection<MetadataError> errors, MetadataSourceMap positions)
    {
        var before = errors.Count;
        if (document is not YMapping map)
        {
            errors.Add(document is null
                ? new MetadataError(file, null, null, "file is empty (expected sources, target and object_store)")
                : new MetadataError(file, document.Start.Line, document.Start.Column, $"expected key: value lines (sources, target, object_store), found {document.Kind}"));
            return null;
        }
        var f = new MappingFields(map, file, errors, null, RootKeys);

        var sources = new Dictionary<string, PgConnection>(StringComparer.Ordinal);
        if (f.Mapping("sources", required: true) is { } sourcesMap)
        {
            if (sourcesMap.Entries.Count == 0)
                f.Error(sourcesMap.Start, "'sources' must define at least one source");
            foreach (var (key, value) in sourcesMap.Entries)
            {
                var name = key.Value;
                positions.Add(file, $"sources.{name}", key.Start.Line, key.Start.Column);
                if (!SimpleName().IsMatch(name))
                {
                    f.Error(key.Start, $"source name '{name}' must be letters, digits and underscores (it is part of process ids and object keys)");
                    continue;
                }
                if (value is not YMapping sourceMap)
                {
                    f.Error(value.Start, $"'sources.{name}' must be a mapping (host, port, database, user, password), found {value.Kind}");
                    continue;
                }
                if (ReadConnection(name, sourceMap, file, errors, $"sources.{name}", SourceKeys) is { } c)
                    sources[name] = c;
            }
        }

        PgConnection? target = null;
        string? transforms = null;
        string? checks = null;
        if (f.Mapping("target", required: true) is { } targetMap)
        {
            positions.Add(file, "target", targetMap.Start.Line, targetMap.Start.Column);
            target = ReadConnection("target", targetMap, file, errors, "target", TargetKeys);
            transforms = ReadFolder(root, targetMap, "transforms", file, errors);
            checks = ReadFolder(root, targetMap, "checks", file, errors);
        }

        ObjectStoreConfig? store = null;
        if (f.Mapping("object_store", required: true) is { } storeMap)
        {
            positions.Add(file, "object_store", storeMap.Start.Line, storeMap.Start.Column);
            store = ReadObjectStore(root, storeMap, file, errors);
        }

        return errors.Count == before && target is not null && store is not null
            ? new MigrationConnections(root, sources, target, store) { TransformsFolder = transforms, ChecksFolder = checks }
            : null;
    }

    /// <summary>target.transforms (BL transform files) or target.checks (key indicators): a folder relative to the metadata folder; it must exist.</summary>
    private static string? ReadFolder(string root, YMapping map, string key, string file, ICollection<MetadataError> errors)
    {
        var node = map[key];
        if (node is null) return null;
        if (node is not YScalar { Value: { Length: > 0 } value })
        {
            errors.Add(new MetadataError(file, node.Start.Line, node.Start.Column, $"'target.{key}' must be a folder path, found {node.Kind}"));
            return null;
        }
        var folder = Path.GetFullPath(Path.Combine(root, value));
        if (Directory.Exists(folder)) return folder;
        errors.Add(new MetadataError(file, node.Start.Line, node.Start.Column, $"'target.{key}' folder not found: {value} (looked in {folder})"));
        return null;
    }

    private static PgConnection? ReadConnection(string name, YMapping map, string file, ICollection<MetadataError> errors, string section, string[] keys)
    {
        var before = errors.Count;
        var f = new MappingFields(map, file, errors, section, keys);
        var host = f.ExpandedString("host", required: true);
        var port = f.Has("port") ? f.ExpandedInt("port", 1, 65535) : 5432;
        var database = f.ExpandedString("database", required: true);
        var user = f.ExpandedString("user", required: true);
        var password = f.Secret("password", $"{name.ToUpperInvariant()}_PASSWORD");

        string? sslMode = null;
        if (f.ExpandedString("ssl_mode") is { } ssl)
        {
            if (SslModes.TryGetValue(ssl, out var mode)) sslMode = mode;
            else f.Error(f.Node("ssl_mode")!.Start, $"'{section}.ssl_mode' must be one of {string.Join(", ", SslModes.Keys)}, found '{ssl}'");
        }
        var maxExtracts = keys.Contains("max_concurrent_extracts") ? f.Int("max_concurrent_extracts", 1, 64) ?? 4 : 4;
        var stgSchema = keys.Contains("stg_schema") ? f.String("stg_schema") ?? "stg" : "stg";

        if (errors.Count != before || host is null || port is null || database is null || user is null) return null;
        return new PgConnection(name, host, port.Value, database, user, password, sslMode, maxExtracts, stgSchema);
    }

    /// <summary>
    /// An object store mapping: connections.yaml's object_store, and the source_store / target_store of a
    /// files process (<paramref name="section"/> names it in messages; their prefix and env default to none).
    /// </summary>
    internal static ObjectStoreConfig? ReadObjectStore(string root, YMapping map, string file, ICollection<MetadataError> errors,
        string section = "object_store", string defaultPrefix = "ferry", string defaultEnv = "prod")
    {
        var before = errors.Count;
        var f = new MappingFields(map, file, errors, section, StoreKeys);
        ObjectStoreKind? kind = null;
        if (f.String("kind", required: true) is { } k)
        {
            kind = k switch { "filesystem" => ObjectStoreKind.Filesystem, "s3" => ObjectStoreKind.S3, _ => null };
            if (kind is null)
                f.Error(f.Node("kind")!.Start, $"invalid object store kind '{k}' (expected filesystem or s3; OCI Object Storage is s3)");
        }

        var prefix = PathSegment(f, "prefix") ?? defaultPrefix;
        var env = PathSegment(f, "env") ?? defaultEnv;
        if (kind is null) return null;

        var notHere = kind == ObjectStoreKind.Filesystem ? S3Only : FilesystemOnly;
        foreach (var key in notHere)
            if (f.KeyPosition(key) is { } at)
                f.Error(at, $"'{f.Name(key)}' applies only to kind {(kind == ObjectStoreKind.Filesystem ? "s3" : "filesystem")}");

        if (kind == ObjectStoreKind.Filesystem)
        {
            var path = f.ExpandedString("path", required: true);
            if (errors.Count != before || path is null) return null;
            // Relative to the project folder (the one holding metadata/), wherever ferry is started from.
            var project = MetadataLoader.ProjectFolderOf(root);
            return new ObjectStoreConfig(ObjectStoreKind.Filesystem, Path: Path.GetFullPath(Path.Combine(project, path)), Prefix: prefix, Env: env);
        }

        var bucket = f.ExpandedString("bucket", required: true);
        var region = f.ExpandedString("region");
        var endpoint = f.ExpandedString("endpoint");
        if (endpoint is not null && !(Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
            f.Error(f.Node("endpoint")!.Start, $"'{f.Name("endpoint")}' must be an http(s) URL, found '{endpoint}'");
        var accessKey = f.Secret("access_key", "S3_ACCESS_KEY");
        var secretKey = f.Secret("secret_key", "S3_SECRET_KEY");
        if (f.Has("access_key") != f.Has("secret_key"))
            f.Error(f.KeyPosition("access_key") ?? f.KeyPosition("secret_key") ?? f.Start, $"'{f.Name("access_key")}' and '{f.Name("secret_key")}' go together: give both or neither");
        if (errors.Count != before || bucket is null) return null;
        return new ObjectStoreConfig(ObjectStoreKind.S3, Endpoint: endpoint, Region: region, Bucket: bucket,
            AccessKey: accessKey, SecretKey: secretKey, Prefix: prefix, Env: env);
    }

    private static string? PathSegment(MappingFields f, string key)
    {
        var value = f.ExpandedString(key);
        if (value is not null && (value.StartsWith('/') || value.EndsWith('/') || value.Contains("//")))
        {
            f.Error(f.Node(key)!.Start, $"'{f.Name(key)}' must not start or end with '/', found '{value}'");
            return null;
        }
        return value;
    }
}
