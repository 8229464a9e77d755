using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ferry.Shared.Stg;

/// <summary>
/// What one extract wrote: written last, beside its parts, so its presence means the extract is
/// complete. A load trusts nothing else: row counts and checksums of every part are checked against it.
/// <see cref="Obfuscation"/>: the rules a DEV extract applied, column → rule and parameter (never the key); null when none were.
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
    ExtractSettings Settings,
    string? CompleteReason = null,
    IReadOnlyDictionary<string, Metadata.ObfuscationRule>? Obfuscation = null)
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

    /// <summary>
    /// Reads a manifest written by <see cref="ToJson"/>. A file that is not one (cut short, corrupt, empty,
    /// missing a field) throws <see cref="InvalidDataException"/> in one line: <c>{where} is not a valid manifest: …</c>.
    /// </summary>
    public static Manifest FromJson(ReadOnlySpan<byte> json, string where)
    {
        Manifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<Manifest>(json, Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{where} is not a valid manifest: {Problem(e, json.Length)}", e);
        }
        // Deserialization leaves what the file lacks as null; a load must not find out halfway.
        var missing = manifest is null ? "everything"
            : manifest.ProcessId is null ? "process_id"
            : manifest.RunId is null ? "run_id"
            : manifest.StgTable is null ? "stg_table"
            : manifest.Cdc is null ? "cdc"
            : manifest.Columns is null ? "columns"
            : manifest.Key is null ? "key"
            : manifest.Parts is null ? "parts"
            : manifest.Settings is null ? "settings"
            : null;
        if (missing is not null)
            throw new InvalidDataException($"{where} is not a valid manifest: it has no {missing}");
        return manifest!;
    }

    /// <summary>"cut short at line 41 (…)" rather than System.Text.Json's message with its internal path syntax.</summary>
    private static string Problem(JsonException e, int length)
    {
        if (length == 0) return "the file is empty";
        var what = e.Message.Split(" Path: ", 2)[0].Split(" LineNumber: ", 2)[0].Trim().TrimEnd('.');
        var at = e.LineNumber is { } line ? $" at line {line + 1}, byte {(e.BytePositionInLine ?? 0) + 1}" : "";
        var kind = e.Message.Contains("end of data", StringComparison.Ordinal) || e.Message.Contains("end of the JSON payload", StringComparison.Ordinal)
            ? "cut short or corrupt" : "corrupt";
        return $"{kind} JSON{at} ({what})";
    }
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
