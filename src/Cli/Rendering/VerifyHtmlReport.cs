using System.Net;
using System.Text;
using Ferry.Shared.Verify;

namespace Ferry.Cli.Rendering;

/// <summary>
/// `ferry verify --html FILE`: one self-contained page (inline style, no script, nothing fetched) that can be
/// mailed or archived with the cutover decision: the verdict, each verify process's status, counts and time,
/// and the differences of each with source and target values side by side.
/// </summary>
public static class VerifyHtmlReport
{
    /// <summary>Differences listed per process; the JSON report has them all.</summary>
    public const int MaxRowsPerProcess = 1_000;

    private const string Style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
        h1{font-size:1.4em}h2{font-size:1.1em;margin-top:2em}
        table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
        th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
        .equal{color:#0a7d28;font-weight:600}.differs,.failed{color:#c0201a;font-weight:600}.flight{color:#9a6a00}
        .verdict{font-size:1.2em;padding:.5em 1em;display:inline-block;border:2px solid currentColor}
        code{font-family:ui-monospace,monospace;white-space:pre-wrap}
        """;

    public static string Build(Verification v, DateTimeOffset at)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Ferry verification ")
            .Append(E(v.VerificationId)).Append("</title><style>").Append(Style).Append("</style></head><body>\n");
        html.Append("<h1>Ferry verification ").Append(E(v.VerificationId)).Append("</h1>\n");
        html.Append("<p>Written ").Append(E(at.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture))).Append(".</p>\n");
        var verdict = VerifyWords.Of(v.Outcome);
        html.Append("<p class=\"verdict ").Append(verdict).Append("\">").Append(v.Outcome switch
        {
            VerifyOutcome.Equal => "Equal: source and target agree",
            VerifyOutcome.Differs => $"Differs: {v.Results.Sum(r => r.Differences):N0} difference(s)",
            _ => "Not verified: a comparison could not be made",
        }).Append("</p>\n");

        html.Append("<table><tr><th>process</th><th>compares</th><th>status</th><th>source</th><th>target</th><th>differences</th><th>in flight</th><th>ranges</th><th>time</th><th>note</th></tr>\n");
        foreach (var r in v.Results)
        {
            var status = VerifyWords.Of(r.Outcome);
            // Only a process with a section below links to it.
            var name = r.Items.Count > 0 || r.Error is not null ? $"<a href=\"#{Anchor(r.ProcessId)}\">{E(r.ProcessId)}</a>" : E(r.ProcessId);
            html.Append("<tr><td>").Append(name).Append("</td><td>").Append(E(r.Subject))
                .Append("</td><td class=\"").Append(status).Append("\">").Append(status).Append("</td>")
                .Append(N(r.SourceRows)).Append(N(r.TargetRows)).Append(N(r.Differences)).Append(N(r.InFlight)).Append(N(r.Ranges))
                .Append("<td class=\"n\">").Append(E(Cells.Took(r.Took))).Append("</td><td>").Append(E(r.Error ?? r.Note ?? "")).Append("</td></tr>\n");
        }
        html.Append("</table>\n");

        foreach (var r in v.Results.Where(r => r.Items.Count > 0 || r.Error is not null))
        {
            html.Append("<h2 id=\"").Append(Anchor(r.ProcessId)).Append("\">").Append(E(r.ProcessId)).Append(": ").Append(E(r.Subject)).Append("</h2>\n");
            if (r.Error is { } error) html.Append("<p class=\"failed\">").Append(E(error)).Append("</p>\n");
            if (r.Items.Count == 0) continue;
            html.Append("<table><tr><th>difference</th><th>key</th><th>column</th><th>source</th><th>target</th><th>detail</th></tr>\n");
            foreach (var d in r.Items.OrderBy(i => i.IsError ? 0 : 1).Take(MaxRowsPerProcess))
            {
                var columns = d.Columns.Count > 0 ? d.Columns : [""];
                var kind = VerifyWords.Of(d.Kind, r.ProcessId);
                html.Append("<tr><td class=\"").Append(d.IsError ? "differs" : "flight").Append("\" rowspan=\"").Append(columns.Count).Append("\">").Append(E(kind))
                    .Append("</td><td rowspan=\"").Append(columns.Count).Append("\"><code>").Append(E(d.Item)).Append("</code></td>");
                for (var i = 0; i < columns.Count; i++)
                {
                    if (i > 0) html.Append("<tr>");
                    html.Append("<td>").Append(E(columns[i])).Append("</td><td><code>").Append(E(Value(d.Source, columns[i]))).Append("</code></td><td><code>")
                        .Append(E(Value(d.Target, columns[i]))).Append("</code></td>");
                    if (i == 0) html.Append("<td rowspan=\"").Append(columns.Count).Append("\">").Append(E(d.Detail ?? "")).Append("</td>");
                    html.Append("</tr>\n");
                }
            }
            html.Append("</table>\n");
            if (r.Items.Count > MaxRowsPerProcess)
                html.Append("<p>").Append($"{r.Items.Count - MaxRowsPerProcess:N0}").Append(" more: the JSON report (--json) lists them all.</p>\n");
        }
        html.Append("</body></html>\n");
        return html.ToString();
    }

    private static string Value(IReadOnlyDictionary<string, string?>? values, string column) =>
        values is null ? "—" : values.TryGetValue(column, out var v) ? v ?? "NULL" : "";

    private static string N(long n) => $"<td class=\"n\">{n:N0}</td>";

    private static string Anchor(string processId) => "p-" + processId.Replace('.', '-');

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
