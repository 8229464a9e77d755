using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Ferry.Shared.Metadata;

namespace Ferry.Worker.Obfuscation;

/// <summary>
/// The secret behind every keyed rule: HMAC-SHA256 of "&lt;rule kind&gt;\0&lt;value&gt;". The input is only the
/// rule kind and the value, never the table, column or source, so the same e-mail obfuscates the same in
/// every table and run and obfuscated columns still join; without the key the outputs cannot be
/// recomputed (not even by trying every phone number or name), and a changed key changes every output.
/// Read from <see cref="ObfuscationPolicy.KeyVariable"/> only; it is never printed.
/// </summary>
public sealed class ObfuscationKey
{
    private const int StackLimit = 512;
    private readonly byte[] _secret;

    /// <summary>One HMAC per thread, reused: a one-shot HMAC sets the key up again for every value, which is most of its cost on short values.</summary>
    private readonly ThreadLocal<IncrementalHash> _hmac;

    public ObfuscationKey(string secret)
    {
        if (string.IsNullOrEmpty(secret)) throw new ArgumentException("the obfuscation key is empty", nameof(secret));
        _secret = Encoding.UTF8.GetBytes(secret);
        _hmac = new ThreadLocal<IncrementalHash>(() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _secret));
    }

    /// <summary>The key from the environment, or a one-line failure naming the table and the variable.</summary>
    public static ObfuscationKey FromEnvironment(string table) =>
        Environment.GetEnvironmentVariable(ObfuscationPolicy.KeyVariable) is { Length: > 0 } secret
            ? new ObfuscationKey(secret)
            : throw new InvalidOperationException(
                $"{table} has obfuscation rules and this is a DEV extract (object_store.env: dev), but {ObfuscationPolicy.KeyVariable} is not set; " +
                "set it to the DEV obfuscation secret (the same on every worker)");

    /// <summary>The 32-byte MAC of a rule kind and a value's UTF-8 bytes.</summary>
    public void Mac(string kind, ReadOnlySpan<byte> value, Span<byte> mac)
    {
        var length = Encoding.UTF8.GetByteCount(kind) + 1 + value.Length;
        byte[]? rented = null;
        var input = length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var n = Encoding.UTF8.GetBytes(kind, input);
            input[n++] = 0;
            value.CopyTo(input[n..]);
            var hmac = _hmac.Value!;
            hmac.AppendData(input[..length]);
            hmac.GetHashAndReset(mac);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public void Mac(string kind, string value, Span<byte> mac)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        byte[]? rented = null;
        var bytes = length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            Encoding.UTF8.GetBytes(value, bytes);
            Mac(kind, bytes[..length], mac);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The first <paramref name="length"/> (1–64) lowercase hex digits of the MAC.</summary>
    public string Hex(string kind, string value, int length)
    {
        Span<byte> mac = stackalloc byte[32];
        Mac(kind, value, mac);
        return Convert.ToHexStringLower(mac)[..length];
    }

    /// <summary>A number from the MAC, for picking from a list or drawing an offset.</summary>
    public ulong Number(string kind, string value)
    {
        Span<byte> mac = stackalloc byte[32];
        Mac(kind, value, mac);
        return BinaryPrimitives.ReadUInt64BigEndian(mac);
    }

    /// <summary>Never the secret.</summary>
    public override string ToString() => $"{ObfuscationPolicy.KeyVariable} (hidden)";
}
