using System.Buffers;
using System.Buffers.Text;
using System.IO.Hashing;
using System.Text;

namespace Ferry.Worker.Stg;

/// <summary>
/// Record boundaries in the CSV that PostgreSQL's COPY writes: records end with '\n' outside quotes,
/// and a quote inside a quoted field is doubled, so toggling on every '"' tracks quoting exactly.
/// Works on raw UTF-8 bytes: no decoding, no per-field parsing.
/// </summary>
public struct CsvRecordScanner
{
    private static readonly SearchValues<byte> QuoteOrNewline = SearchValues.Create("\"\n"u8);

    public bool InQuotes { get; private set; }

    /// <summary>Index just past the '\n' that ends the record starting at or before <paramref name="from"/>, or -1 if the span ends first.</summary>
    public int FindRecordEnd(ReadOnlySpan<byte> span, int from)
    {
        var i = from;
        while (i < span.Length)
        {
            if (InQuotes)
            {
                var q = span[i..].IndexOf((byte)'"');
                if (q < 0) return -1;
                i += q + 1;
                InQuotes = false;
            }
            else
            {
                var hit = span[i..].IndexOfAny(QuoteOrNewline);
                if (hit < 0) return -1;
                i += hit;
                if (span[i] == (byte)'\n') return i + 1;
                InQuotes = true;
                i++;
            }
        }
        return -1;
    }

    /// <summary>Counts complete records in a chunk; the scanner carries quote state to the next chunk.</summary>
    public long CountRecordEnds(ReadOnlySpan<byte> span)
    {
        long count = 0;
        var at = 0;
        while (at < span.Length)
        {
            var end = FindRecordEnd(span, at);
            if (end < 0) break;
            count++;
            at = end;
        }
        return count;
    }

    /// <summary>Splits one record (without its '\n') into unquoted field texts. For headers: small and rare.</summary>
    public static List<string> ParseFields(ReadOnlySpan<byte> record)
    {
        var fields = new List<string>();
        var sb = new StringBuilder();
        var text = Encoding.UTF8.GetString(record);
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { sb.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else sb.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(sb.ToString()); sb.Clear(); }
            else sb.Append(c);
        }
        fields.Add(sb.ToString());
        return fields;
    }
}

/// <summary>
/// Rewrites the CSV of an extract into the CSV that the STG load takes: the header is checked and
/// dropped, and every record gets its row hash (xxHash64 of the record's exact bytes) and an optional
/// constant suffix appended. Hashing here, while the rows stream, spares the database an md5 of every row.
/// </summary>
public sealed class CsvRowHasher
{
    private const int ReadSize = 1 << 20;
    private readonly IReadOnlyList<string> _expectedHeader;
    private readonly byte[] _suffix;
    private readonly bool _appendHash;

    /// <param name="expectedHeader">The column names the part must start with.</param>
    /// <param name="suffix">Bytes appended after the hash, e.g. ",run-id" (empty for none).</param>
    /// <param name="appendHash">False to pass records through unchanged (key-sweep files).</param>
    public CsvRowHasher(IReadOnlyList<string> expectedHeader, string suffix = "", bool appendHash = true)
    {
        _expectedHeader = expectedHeader;
        _suffix = Encoding.UTF8.GetBytes(suffix);
        _appendHash = appendHash;
    }

    /// <summary>Copies <paramref name="input"/> to <paramref name="output"/>; returns the number of data records.</summary>
    public async Task<long> CopyAsync(Stream input, Stream output, string partName, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ReadSize * 2);
        var outBuf = ArrayPool<byte>.Shared.Rent(ReadSize + 4096);
        try
        {
            var scanner = new CsvRecordScanner();
            int start = 0, filled = 0, scanFrom = 0, outLen = 0;
            long rows = 0;
            var headerSeen = false;
            while (true)
            {
                if (filled == buffer.Length)
                {
                    // One record fills the whole buffer: grow it.
                    var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, filled).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                var read = await input.ReadAsync(buffer.AsMemory(filled, Math.Min(ReadSize, buffer.Length - filled)), ct);
                if (read == 0) break;
                filled += read;
                while (true)
                {
                    var end = scanner.FindRecordEnd(buffer.AsSpan(0, filled), scanFrom);
                    if (end < 0) { scanFrom = filled; break; }
                    var recordLength = end - 1 - start;
                    if (!headerSeen)
                    {
                        CheckHeader(buffer.AsSpan(start, recordLength), partName);
                        headerSeen = true;
                    }
                    else
                    {
                        var needed = recordLength + 32 + _suffix.Length;
                        if (outLen + needed > outBuf.Length)
                        {
                            await output.WriteAsync(outBuf.AsMemory(0, outLen), ct);
                            outLen = 0;
                            if (needed > outBuf.Length)
                            {
                                ArrayPool<byte>.Shared.Return(outBuf);
                                outBuf = ArrayPool<byte>.Shared.Rent(needed);
                            }
                        }
                        outLen += AppendRow(buffer.AsSpan(start, recordLength), outBuf.AsSpan(outLen));
                        rows++;
                    }
                    start = end;
                    scanFrom = end;
                }
                // Keep the unfinished record at the front of the buffer.
                if (start > 0)
                {
                    buffer.AsSpan(start, filled - start).CopyTo(buffer);
                    filled -= start;
                    scanFrom -= start;
                    start = 0;
                }
            }
            if (filled > 0 || scanner.InQuotes)
                throw new InvalidDataException($"{partName} is truncated: it ends inside a record after {rows:N0} rows");
            if (!headerSeen)
                throw new InvalidDataException($"{partName} is empty: no CSV header");
            if (outLen > 0)
                await output.WriteAsync(outBuf.AsMemory(0, outLen), ct);
            return rows;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            ArrayPool<byte>.Shared.Return(outBuf);
        }
    }

    /// <summary>The row hash of one record's exact CSV bytes, as stored in stg_row_hash.</summary>
    public static long RowHash(ReadOnlySpan<byte> record) => unchecked((long)XxHash64.HashToUInt64(record));

    private int AppendRow(ReadOnlySpan<byte> record, Span<byte> dest)
    {
        record.CopyTo(dest);
        var n = record.Length;
        if (_appendHash)
        {
            dest[n++] = (byte)',';
            Utf8Formatter.TryFormat(RowHash(record), dest[n..], out var written);
            n += written;
        }
        _suffix.CopyTo(dest[n..]);
        n += _suffix.Length;
        dest[n++] = (byte)'\n';
        return n;
    }

    private void CheckHeader(ReadOnlySpan<byte> record, string partName)
    {
        var header = CsvRecordScanner.ParseFields(record);
        if (!header.SequenceEqual(_expectedHeader))
            throw new InvalidDataException(
                $"{partName} has columns ({string.Join(", ", header)}) but the manifest says ({string.Join(", ", _expectedHeader)})");
    }
}
