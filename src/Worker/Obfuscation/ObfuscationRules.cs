using System.Globalization;
using System.Text;

namespace Ferry.Worker.Obfuscation;

/// <summary>The number types number_noise serves, with the range a noisy value is kept in so it still loads.</summary>
public abstract record NumberShape
{
    public sealed record Integer(long Min, long Max) : NumberShape;
    /// <summary>numeric(p, s): <see cref="MaxAbs"/> is the largest value it holds (null: unconstrained numeric).</summary>
    public sealed record Numeric(decimal? MaxAbs) : NumberShape;
    public sealed record Float(bool Single) : NumberShape;
}

/// <summary>
/// What each rule does to one non-NULL value (the text COPY wrote). Keyed rules take the
/// <see cref="ObfuscationKey"/>; date_shift and number_noise take an offset drawn once per row from the
/// row's key, so an unchanged row gets an unchanged output and the dates of one row move together.
/// Text rules leave the empty string empty: it says nothing, and DEV keeps production's mix of '' and NULL.
/// </summary>
public static class ObfuscationRules
{
    /// <summary>Hex digits in an obfuscated e-mail's local part: enough that distinct addresses stay distinct, so joins on e-mail hold.</summary>
    public const int EmailHexLength = 12;

    private const int PhoneLeading = 3, PhoneTrailing = 2;

    /// <summary>3 leading and 2 trailing digits around a fixed mask: <c>+49 985 1234 5612</c> → <c>+985***12</c>; fewer than 6 digits → <c>***</c>.</summary>
    public static string Phone(string value)
    {
        if (value.Length == 0) return value;
        var digits = new StringBuilder(value.Length);
        foreach (var c in value)
            if (char.IsAsciiDigit(c)) digits.Append(c);
        if (digits.Length < PhoneLeading + PhoneTrailing + 1) return "***";
        var plus = value.TrimStart().StartsWith('+') ? "+" : "";
        return $"{plus}{digits.ToString(0, PhoneLeading)}***{digits.ToString(digits.Length - PhoneTrailing, PhoneTrailing)}";
    }

    /// <summary>
    /// <c>anna.meyer@gmail.com</c> → <c>a21f09c3b7e4@g***.com</c>: the local part is the keyed hash of the whole
    /// (trimmed, lower-cased) address, the domain keeps its first letter and its top-level domain.
    /// </summary>
    public static string Email(ObfuscationKey key, string value)
    {
        if (value.Length == 0) return value;
        var normalized = value.Trim().ToLowerInvariant();
        var local = key.Hex("email", normalized, EmailHexLength);
        var at = normalized.LastIndexOf('@');
        var domain = at < 0 ? "" : normalized[(at + 1)..];
        if (domain.Length == 0) return $"{local}@***.invalid";
        var first = char.IsSurrogate(domain[0]) && domain.Length > 1 ? domain[..2] : domain[..1];
        var dot = domain.LastIndexOf('.');
        var tld = dot > 0 ? domain[dot..] : "";
        return $"{local}@{first}***{tld}";
    }

    /// <summary>The first <paramref name="length"/> hex digits of the keyed hash.</summary>
    public static string Hash(ObfuscationKey key, string value, int length) =>
        value.Length == 0 ? value : key.Hex("hash", value, length);

    /// <summary>A name from the shipped list picked by the keyed hash: <paramref name="part"/> is first, last or full ("First Last").</summary>
    public static string Name(ObfuscationKey key, string value, string part)
    {
        if (value.Length == 0) return value;
        Span<byte> mac = stackalloc byte[32];
        key.Mac("name", value, mac);
        var first = FakeNames.First[(int)(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(mac) % (ulong)FakeNames.First.Count)];
        var last = FakeNames.Last[(int)(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(mac[8..]) % (ulong)FakeNames.Last.Count)];
        return part switch { "last" => last, "full" => $"{first} {last}", _ => first };
    }

    /// <summary>The first <paramref name="length"/> characters (whole code points: an emoji is never cut in half).</summary>
    public static string Truncate(string value, int length)
    {
        var taken = 0;
        var end = 0;
        foreach (var rune in value.EnumerateRunes())
        {
            if (taken == length) return value[..end];
            end += rune.Utf16SequenceLength;
            taken++;
        }
        return value;
    }

    /// <summary>The row's shift from its seed (the keyed hash of its key text): ±1..<paramref name="maxDays"/> days (never 0, which would leave the date as it is).</summary>
    public static int ShiftDays(ulong rowSeed, int maxDays)
    {
        var k = (long)(rowSeed % (ulong)(2 * maxDays));
        return k < maxDays ? -(int)(k + 1) : (int)(k - maxDays + 1);
    }

    /// <summary>
    /// Moves the date part of a date or timestamp text (ISO, as the pinned DateStyle writes it) by
    /// <paramref name="days"/>, keeping the time and zone. Texts that are not such a date (infinity, BC) pass unchanged.
    /// </summary>
    public static string DateShift(string value, int days)
    {
        if (value.Length < 10 || value[4] != '-' || value[7] != '-' || (value.Length > 10 && value[10] != ' ' && value[10] != 'T')
            || value.EndsWith(" BC", StringComparison.Ordinal)
            || !DateOnly.TryParseExact(value.AsSpan(0, 10), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            return value;
        var shifted = date.DayNumber + days;
        if (shifted < DateOnly.MinValue.DayNumber || shifted > DateOnly.MaxValue.DayNumber) return value;
        return DateOnly.FromDayNumber(shifted).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + value[10..];
    }

    /// <summary>The row's noise: a fraction in [-p/100, +p/100].</summary>
    public static double NoiseFraction(ulong rowSeed, decimal percent)
    {
        var unit = (rowSeed >> 11) * (1.0 / (1UL << 53));
        return (2 * unit - 1) * (double)percent / 100;
    }

    /// <summary>value × (1 + fraction), rounded to the value's own decimals and kept inside its type's range. NaN and infinities pass unchanged.</summary>
    public static string NumberNoise(string value, double fraction, NumberShape shape)
    {
        var text = value.Trim();
        switch (shape)
        {
            case NumberShape.Integer i when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n):
            {
                var noisy = Math.Round((decimal)n * (1 + (decimal)fraction), MidpointRounding.AwayFromZero);
                return Math.Clamp(noisy, i.Min, i.Max).ToString("0", CultureInfo.InvariantCulture);
            }
            case NumberShape.Numeric num when decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d):
            {
                var dot = text.IndexOf('.');
                var scale = dot < 0 || text.Contains('e', StringComparison.OrdinalIgnoreCase) ? 0 : text.Length - dot - 1;
                decimal noisy;
                try { noisy = Math.Round(d * (1 + (decimal)fraction), Math.Min(scale, 28), MidpointRounding.AwayFromZero); }
                catch (OverflowException) { noisy = d; }
                if (num.MaxAbs is { } max) noisy = Math.Clamp(noisy, -max, max);
                return noisy.ToString(scale == 0 ? "0" : "0." + new string('0', scale), CultureInfo.InvariantCulture);
            }
            case NumberShape.Numeric or NumberShape.Float when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var x):
            {
                if (!double.IsFinite(x)) return value;
                var noisy = x * (1 + fraction);
                return shape is NumberShape.Float { Single: true }
                    ? ((float)noisy).ToString("R", CultureInfo.InvariantCulture)
                    : noisy.ToString("R", CultureInfo.InvariantCulture);
            }
            default:
                return value;
        }
    }
}
