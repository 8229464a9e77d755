using System.Globalization;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Parsing;

namespace Ferry.Shared.Logging;

/// <summary>
/// A log line for people: `14:02:03.519 INF TrustGate: message`, values as they read (Serilog quotes
/// strings, enums and URIs in a rendered message; a console line and the run log do not), the exception
/// on the lines below.
/// </summary>
public sealed class PlainText : ITextFormatter
{
    public void Format(LogEvent e, TextWriter output)
    {
        output.Write(e.Timestamp.ToLocalTime().ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture));
        output.Write(' ');
        output.Write(Level(e.Level));
        output.Write(' ');
        output.Write(e.Properties.TryGetValue("Source", out var s) && s is ScalarValue { Value: string source } ? source : "ferry");
        output.Write(": ");
        output.Write(Message(e));
        output.WriteLine();
        if (e.Exception is not null) output.WriteLine(e.Exception);
    }

    /// <summary>The rendered message with every scalar written as its plain text.</summary>
    public static string Message(LogEvent e)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        foreach (var token in e.MessageTemplate.Tokens)
        {
            if (token is not PropertyToken p) { token.Render(e.Properties, text, CultureInfo.InvariantCulture); continue; }
            if (!e.Properties.TryGetValue(p.PropertyName, out var value)) text.Write(p.ToString());
            else if (value is ScalarValue { Value: var v })
                text.Write(v switch
                {
                    null => "null",
                    IFormattable f => f.ToString(p.Format, CultureInfo.InvariantCulture),
                    _ => v.ToString(),
                });
            else value.Render(text, "l", CultureInfo.InvariantCulture);
        }
        return text.ToString();
    }

    private static string Level(LogEventLevel level) => level switch
    {
        LogEventLevel.Verbose => "VRB",
        LogEventLevel.Debug => "DBG",
        LogEventLevel.Information => "INF",
        LogEventLevel.Warning => "WRN",
        LogEventLevel.Error => "ERR",
        _ => "FTL",
    };
}
