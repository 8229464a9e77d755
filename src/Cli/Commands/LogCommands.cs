using System.CommandLine;
using System.Text.Json;
using Ferry.Cli.Api;
using Ferry.Coordinator.Api;
using Ferry.Shared.Logging;

namespace Ferry.Cli.Commands;

/// <summary>`ferry logs &lt;run-id&gt; [--follow]`: a run's log lines as the cluster kept them, whichever worker wrote them.</summary>
public static class LogCommands
{
    /// <summary>How often --follow asks for new lines.</summary>
    private static readonly TimeSpan FollowInterval = TimeSpan.FromSeconds(1);

    public static Command Logs()
    {
        var run = new Argument<string>("run-id") { Description = "A process run id (20261202T071706Z-fcc2a4) or a pipeline run id (all its process runs)" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines until the run has ended" };
        var json = new Option<bool>("--json") { Description = "One JSON object a line" };
        var (coordinator, token) = (ClusterCommands.CoordinatorOption(), ClusterCommands.TokenOption());
        var command = new Command("logs", "The log lines of a run, kept in the target database by the nodes that ran it") { run, follow, json, coordinator, token };
        command.SetAction((r, ct) => ClusterCommands.WithClientAsync(r.GetValue(coordinator), r.GetValue(token), async client =>
        {
            var runId = r.GetValue(run)!;
            long after = 0;
            var printed = 0;
            while (true)
            {
                var page = await client.GetRunLogAsync(runId, after, ct);
                foreach (var line in page.Lines) Console.WriteLine(r.GetValue(json) ? JsonSerializer.Serialize(line, ApiJson.Options) : Format(line));
                printed += page.Lines.Count;
                after = page.Next;
                if (page.Lines.Count == RunLog.MaxPage) continue;   // more are waiting
                if (!r.GetValue(follow) || !page.Running) break;
                try { await Task.Delay(FollowInterval, ct); }
                catch (OperationCanceledException) { return 0; }
            }
            if (printed == 0) await Console.Error.WriteLineAsync($"ferry: no log lines kept for run {runId} (an unknown run, or one that logged nothing)");
            return 0;
        }));
        return command;
    }

    /// <summary>12:04:05.123 INF w1:4053 stg.qvp.users [loading] message, then the exception indented.</summary>
    public static string Format(RunLogLine line)
    {
        var level = line.Level switch { "debug" => "DBG", "info" => "INF", "warning" => "WRN", _ => "ERR" };
        var text = $"{line.At.ToUniversalTime():HH:mm:ss.fff} {level} {line.Node} {line.ProcessId}{(line.Step is { Length: > 0 } s ? $" [{s}]" : "")} {line.Message}";
        return line.Exception is { Length: > 0 } e ? text + Environment.NewLine + "    " + e.Replace("\n", "\n    ") : text;
    }
}
