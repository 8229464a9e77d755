namespace Ferry.Shared.Storage;

/// <summary>
/// The rules every store applies to keys and list prefixes, so a key that works on the filesystem
/// store works on S3 and back: '/'-separated, relative, no empty, "." or ".." segments, no
/// backslashes or control characters, at most 1024 UTF-8 bytes (the S3 limit).
/// </summary>
public static class ObjectKey
{
    public const int MaxUtf8Bytes = 1024;

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="key"/> names an object.</summary>
    public static string Validate(string key, string paramName = "key")
    {
        ArgumentNullException.ThrowIfNull(key, paramName);
        if (key.Length == 0)
            throw Invalid(key, "it is empty", paramName);
        if (key.EndsWith('/'))
            throw Invalid(key, "it ends with '/' (that names a folder, not an object)", paramName);
        CheckPath(key, paramName);
        return key;
    }

    /// <summary>
    /// Throws unless <paramref name="prefix"/> is a valid list prefix: empty, or a relative path
    /// that may end with '/' (S3 semantics: "runs/a" also matches "runs/ab/x").
    /// </summary>
    public static string ValidatePrefix(string prefix, string paramName = "prefix")
    {
        ArgumentNullException.ThrowIfNull(prefix, paramName);
        if (prefix.Length == 0) return prefix;
        CheckPath(prefix.EndsWith('/') ? prefix[..^1] : prefix, paramName, original: prefix);
        return prefix;
    }

    /// <summary>
    /// The normalised form of a store prefix (the part every key of a store lives under):
    /// no leading or trailing '/', validated like a key; empty means the bucket or folder root.
    /// </summary>
    public static string NormalizeStorePrefix(string? prefix)
    {
        var p = (prefix ?? "").Trim('/');
        if (p.Length > 0) CheckPath(p, nameof(prefix));
        return p;
    }

    private static void CheckPath(string path, string paramName, string? original = null)
    {
        var shown = original ?? path;
        if (path.Length == 0 || path.StartsWith('/') || Path.IsPathRooted(path))
            throw Invalid(shown, "it must be a relative path", paramName);
        if (System.Text.Encoding.UTF8.GetByteCount(shown) > MaxUtf8Bytes)
            throw Invalid(shown, $"it is longer than {MaxUtf8Bytes} UTF-8 bytes", paramName);
        foreach (var c in path)
        {
            if (c == '\\')
                throw Invalid(shown, "it contains a backslash (use '/')", paramName);
            if (char.IsControl(c))
                throw Invalid(shown, "it contains a control character", paramName);
        }
        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0)
                throw Invalid(shown, "it contains an empty segment ('//' or a leading '/')", paramName);
            if (segment is "." or "..")
                throw Invalid(shown, $"it contains a '{segment}' segment", paramName);
        }
    }

    private static ArgumentException Invalid(string key, string why, string paramName) =>
        new($"invalid object key '{key}': {why}", paramName);
}
