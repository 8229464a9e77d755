using System.Collections.Concurrent;
using Ferry.Shared.Processes;
using Spectre.Console;

namespace Ferry.Cli.Rendering;

/// <summary>
/// Shows what long work is doing: a live table of processes, steps, rows done of rows expected and bytes
/// on a terminal, or a line per step change (and every few seconds) when the output is a file or CI log.
/// </summary>
public sealed class LiveProgress : IProgress<StepProgress>
{
    private readonly ConcurrentDictionary<string, StepProgress> _state = new();
    private readonly ConcurrentDictionary<string, DateTime> _lastLine = new();
    private readonly bool _interactive = AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;

    public void Report(StepProgress value)
    {
        var previous = _state.GetValueOrDefault(value.ProcessId);
        _state[value.ProcessId] = value;
        if (_interactive) return;
        var now = DateTime.UtcNow;
        if (previous?.Step != value.Step || now - _lastLine.GetValueOrDefault(value.ProcessId) > TimeSpan.FromSeconds(5))
        {
            _lastLine[value.ProcessId] = now;
            Console.WriteLine($"  {value.ProcessId}: {value.Describe()}");
        }
    }

    public void Finished(string processId) => _state.TryRemove(processId, out _);

    /// <summary>Runs <paramref name="work"/> while a live view refreshes (interactive terminals only).</summary>
    public async Task<T> ShowAsync<T>(string title, Func<Task<T>> work)
    {
        if (!_interactive)
        {
            Console.WriteLine(title);
            return await work();
        }
        T result = default!;
        await AnsiConsole.Live(Render(title)).StartAsync(async ctx =>
        {
            var task = work();
            while (!task.IsCompleted)
            {
                ctx.UpdateTarget(Render(title));
                await Task.WhenAny(task, Task.Delay(250));
            }
            result = await task;
            ctx.UpdateTarget(new Text(""));
        });
        return result;
    }

    private Table Render(string title)
    {
        var table = new Table { Title = new TableTitle(title), Border = TableBorder.Simple };
        table.AddColumns("process", "step", "done", "MB");
        table.Columns[2].RightAligned();
        table.Columns[3].RightAligned();
        foreach (var p in _state.Values.OrderBy(p => p.ProcessId))
            table.AddRow(p.ProcessId, p.Step.ToString().ToLowerInvariant(), Markup.Escape(p.Counted()), (p.Bytes / 1e6).ToString("N1"));
        return table;
    }
}
