using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ferry.Shared.Stg;

/// <summary>
/// What one extract wrote: written last, beside its parts, so its presence means the extract is
/// complete. A load trusts nothing else: row counts and checksums of every part are checked against it.
/// </summary>
public sealed record Manifest(
    string ProcessId,
    string RunId,
    string Source,
    string SourceTable,
    string StgTable,
    RunMode Mode,
    bool Complete,
    CdcBounds Cdc,
    DateTimeOffset SnapshotTime,
    IReadOnlyList<ColumnSpec> Columns,
    IReadOnlyList<string> Key,
    IReadOnlyList<PartInfo> Parts,
    PartInfo? Keys,
    string? SoftDeleteColumn,
    DateTimeOffset CreatedAt,
    ExtractSettings Settings)
{
    public const string FileName = "manifest.json";

    public long TotalRows => Parts.Sum(p => p.Rows);

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public static Manifest FromJson(ReadOnlySpan<byte> json, string where) =>
        JsonSerializer.Deserialize<Manifest>(json, Json) ?? throw new InvalidDataException($"{where}: empty manifest");
}

public enum RunMode { Bulk, Incremental }

/// <summary>The CDC predicate an extract used: its mode and the bounds, so a replay knows what the files hold.</summary>
public sealed record CdcBounds(string Mode, DateTimeOffset? Since, IReadOnlyList<string> Columns, string? WatermarkFrom);

/// <summary>A source column: its type on the source and the type it has in STG.</summary>
public sealed record ColumnSpec(string Name, string SourceType, string StgType);

/// <summary>One file of an extract: its object key (relative to the run folder), rows, compressed bytes and SHA-256 of those bytes.</summary>
public sealed record PartInfo(string Name, long Rows, long Bytes, string Sha256, string? KeyRange = null);

/// <summary>The session settings pinned while extracting, so that the same row always has the same text (and hash).</summary>
public sealed record ExtractSettings(string TimeZone, string DateStyle, string IntervalStyle, int ExtraFloatDigits, string ByteaOutput)
{
    public static ExtractSettings Pinned { get; } = new("UTC", "ISO, YMD", "postgres", 1, "hex");
}
