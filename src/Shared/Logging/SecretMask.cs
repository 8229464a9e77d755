using Serilog.Events;
using Serilog.Formatting;

namespace Ferry.Shared.Logging;

/// <summary>
/// The last line of defence: every configured secret value (passwords, keys, the cluster secret, the
/// API token) is replaced by *** in whatever a sink writes, even when a library puts one into an
/// exception message or a connection string. Values shorter than 4 characters are not masked (they
/// would mask ordinary text and protect nothing).
/// </summary>
public sealed class SecretMask
{
    public const string Mask = "***";
    private readonly string[] _secrets;

    public SecretMask(IEnumerable<string> secrets) =>
        // Longest first, so a secret that contains another is masked whole.
        _secrets = secrets.Where(s => s is { Length: >= 4 }).Distinct().OrderByDescending(s => s.Length).ToArray();

    public bool IsEmpty => _secrets.Length == 0;

    public string Apply(string text)
    {
        foreach (var secret in _secrets)
            if (text.Contains(secret, StringComparison.Ordinal)) text = text.Replace(secret, Mask, StringComparison.Ordinal);
        return text;
    }

    /// <summary>A formatter that writes what <paramref name="inner"/> writes, masked.</summary>
    public ITextFormatter Wrap(ITextFormatter inner) => IsEmpty ? inner : new Masked(inner, this);

    private sealed class Masked(ITextFormatter inner, SecretMask mask) : ITextFormatter
    {
        public void Format(LogEvent logEvent, TextWriter output)
        {
            using var buffer = new StringWriter();
            inner.Format(logEvent, buffer);
            output.Write(mask.Apply(buffer.ToString()));
        }
    }
}
