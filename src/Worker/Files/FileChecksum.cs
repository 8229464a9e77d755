using Ferry.Shared.Metadata;

namespace Ferry.Worker.Files;

/// <summary>MD5s as stg.file_copies records them: <c>md5:&lt;lower-case hex&gt;</c>, whatever the listing's format.</summary>
public static class FileChecksum
{
    public const string Md5Prefix = "md5:";

    public static string Md5(ReadOnlySpan<byte> hash) => Md5Prefix + Convert.ToHexStringLower(hash);

    public static string Md5(string hex) => Md5Prefix + hex.ToLowerInvariant();

    /// <summary>The listing's checksum as <c>md5:&lt;hex&gt;</c>; null when empty; throws <see cref="FormatException"/> when it is not an MD5 in <paramref name="format"/>.</summary>
    public static string? FromListing(string? text, ChecksumFormat format)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var value = text.Trim();
        byte[] hash;
        try
        {
            hash = format == ChecksumFormat.Md5Hex ? Convert.FromHexString(value) : Convert.FromBase64String(value);
        }
        catch (FormatException)
        {
            hash = [];
        }
        if (hash.Length != 16)
            throw new FormatException($"checksum '{value}' is not a {(format == ChecksumFormat.Md5Hex ? "hex" : "base64")} MD5");
        return Md5(hash);
    }

    /// <summary>An S3 ETag that is the MD5 of the object (single-part uploads and copies), as <c>md5:&lt;hex&gt;</c>; null for multipart ETags and other stores' markers.</summary>
    public static string? FromETag(string? etag)
    {
        var e = etag?.Trim('"');
        return e is { Length: 32 } && e.All(char.IsAsciiHexDigit) ? Md5(e) : null;
    }
}
