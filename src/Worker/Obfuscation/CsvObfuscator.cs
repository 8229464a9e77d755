using System.Buffers;
using System.Text;
using Ferry.Worker.Stg;

namespace Ferry.Worker.Obfuscation;

/// <summary>
/// Rewrites the CSV that COPY writes, record by record as the bytes stream, applying an
/// <see cref="ObfuscationPlan"/>. Works on the raw bytes with <see cref="CsvRecordScanner"/> (no CSV library):
/// fields without a rule are copied byte for byte, so they keep COPY's exact text; only ruled fields are
/// decoded and re-encoded. COPY's CSV tells NULL (an unquoted empty field) from '' (<c>""</c>), and so does the
/// output, quoting every value that needs it (commas, quotes, newlines, backslashes, the empty string).
/// The same input record always gives the same output bytes, so STG's row hash only moves on a real change.
/// </summary>
public sealed class CsvObfuscator : IDisposable
{
    private const int FlushAt = 1 << 20;
    private static readonly SearchValues<char> NeedsQuotes = SearchValues.Create(",\"\n\r\\");

    private readonly ObfuscationPlan _plan;
    private readonly string _partName;
    private readonly RowOffsets _row;
    private readonly (int Start, int Length, bool Quoted)[] _fields;
    private readonly string?[] _keyValues;
    private CsvRecordScanner _scanner;
    private byte[] _pending = ArrayPool<byte>.Shared.Rent(FlushAt);
    private int _filled, _start, _scanFrom;
    private byte[] _out = ArrayPool<byte>.Shared.Rent(FlushAt + (FlushAt >> 2));
    private int _outLength;
    private bool _headerSeen;

    public CsvObfuscator(ObfuscationPlan plan, string partName)
    {
        _plan = plan;
        _partName = partName;
        _row = plan.NewRowOffsets();
        _fields = new (int, int, bool)[plan.FieldCount];
        _keyValues = new string?[plan.KeyFields.Count];
    }

    /// <summary>Data records rewritten so far (the header is not one).</summary>
    public long Rows { get; private set; }

    /// <summary>Takes the next bytes of COPY's output and writes every record they complete to <paramref name="output"/>.</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> chunk, Stream output, CancellationToken ct)
    {
        if (_filled + chunk.Length > _pending.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_pending.Length * 2, _filled + chunk.Length));
            _pending.AsSpan(0, _filled).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_pending);
            _pending = bigger;
        }
        chunk.Span.CopyTo(_pending.AsSpan(_filled));
        _filled += chunk.Length;
        while (true)
        {
            var end = _scanner.FindRecordEnd(_pending.AsSpan(0, _filled), _scanFrom);
            if (end < 0) { _scanFrom = _filled; break; }
            Rewrite(_pending.AsSpan(_start, end - 1 - _start));
            _start = _scanFrom = end;
        }
        // Keep the unfinished record at the front.
        if (_start > 0)
        {
            _pending.AsSpan(_start, _filled - _start).CopyTo(_pending);
            _filled -= _start;
            _scanFrom -= _start;
            _start = 0;
        }
        if (_outLength >= FlushAt)
        {
            await output.WriteAsync(_out.AsMemory(0, _outLength), ct);
            _outLength = 0;
        }
    }

    /// <summary>Writes what is left; COPY's output must have ended on a record boundary.</summary>
    public async ValueTask CompleteAsync(Stream output, CancellationToken ct)
    {
        if (_filled > 0 || _scanner.InQuotes)
            throw new InvalidDataException($"{_partName}: the source's COPY output ended inside a record after {Rows:N0} rows");
        if (_outLength > 0) await output.WriteAsync(_out.AsMemory(0, _outLength), ct);
        _outLength = 0;
    }

    private void Rewrite(ReadOnlySpan<byte> record)
    {
        if (!_headerSeen)
        {
            _headerSeen = true;
            Append(record);
            Append("\n"u8);
            return;
        }
        var count = Split(record);
        if (count != _fields.Length)
            throw new InvalidDataException($"{_partName}: record {Rows + 1:N0} has {count} fields, the extract has {_fields.Length} columns");
        if (_plan.NeedsRowKey)
        {
            for (var k = 0; k < _keyValues.Length; k++) _keyValues[k] = Decode(record, _fields[_plan.KeyFields[k]]);
            _row.Reset(RowOffsets.KeyText(_keyValues));
        }
        for (var i = 0; i < count; i++)
        {
            if (i > 0) Append(","u8);
            var (start, length, _) = _fields[i];
            if (!_plan.Rewrites(i))
                Append(record.Slice(start, length));
            else
                Encode(_plan.Apply(i, Decode(record, _fields[i]), _row));
        }
        Append("\n"u8);
        Rows++;
    }

    /// <summary>Finds the fields of one record (without its '\n'); returns how many there are.</summary>
    private int Split(ReadOnlySpan<byte> record)
    {
        var count = 0;
        var pos = 0;
        while (true)
        {
            var start = pos;
            var quoted = pos < record.Length && record[pos] == (byte)'"';
            if (quoted)
            {
                pos++;
                while (true)
                {
                    var q = record[pos..].IndexOf((byte)'"');
                    if (q < 0) throw new InvalidDataException($"{_partName}: record {Rows + 1:N0} has an unclosed quote");
                    pos += q + 1;
                    if (pos < record.Length && record[pos] == (byte)'"') { pos++; continue; }
                    break;
                }
            }
            var comma = record[pos..].IndexOf((byte)',');
            pos = comma < 0 ? record.Length : pos + comma;
            if (count < _fields.Length) _fields[count] = (start, pos - start, quoted);
            count++;
            if (pos == record.Length) return count;
            pos++;
        }
    }

    /// <summary>NULL for an unquoted empty field, else the field's text with quoting undone.</summary>
    private static string? Decode(ReadOnlySpan<byte> record, (int Start, int Length, bool Quoted) field)
    {
        if (!field.Quoted)
            return field.Length == 0 ? null : Encoding.UTF8.GetString(record.Slice(field.Start, field.Length));
        var inner = Encoding.UTF8.GetString(record.Slice(field.Start + 1, field.Length - 2));
        return inner.Contains('"') ? inner.Replace("\"\"", "\"") : inner;
    }

    private void Encode(string? value)
    {
        if (value is null) return;
        if (value.Length > 0 && !value.AsSpan().ContainsAny(NeedsQuotes))
        {
            AppendText(value);
            return;
        }
        Append("\""u8);
        AppendText(value.Contains('"') ? value.Replace("\"", "\"\"") : value);
        Append("\""u8);
    }

    private void AppendText(string text)
    {
        Reserve(Encoding.UTF8.GetMaxByteCount(text.Length));
        _outLength += Encoding.UTF8.GetBytes(text, _out.AsSpan(_outLength));
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        Reserve(bytes.Length);
        bytes.CopyTo(_out.AsSpan(_outLength));
        _outLength += bytes.Length;
    }

    private void Reserve(int bytes)
    {
        if (_outLength + bytes <= _out.Length) return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_out.Length * 2, _outLength + bytes));
        _out.AsSpan(0, _outLength).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_out);
        _out = bigger;
    }

    public void Dispose()
    {
        if (_pending.Length == 0) return;
        ArrayPool<byte>.Shared.Return(_pending);
        ArrayPool<byte>.Shared.Return(_out);
        _pending = _out = [];
    }
}
