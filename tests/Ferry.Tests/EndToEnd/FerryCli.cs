using System.Diagnostics;
using System.Text;

namespace Ferry.Tests.EndToEnd;

/// <summary>Runs the real `ferry` binary (built beside the tests) as a child process.</summary>
public static class FerryCli
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "ferry.dll");

    public sealed record Result(int ExitCode, string Output);

    public static async Task<Result> RunAsync(string workingDirectory, IDictionary<string, string>? env, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var output = new StringBuilder();
        var lockObj = new object();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (lockObj) output.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (lockObj) output.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try { await p.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException) { p.Kill(entireProcessTree: true); await p.WaitForExitAsync(); throw new TimeoutException($"ferry {string.Join(' ', args)} did not finish:\n{output}"); }
        return new Result(p.ExitCode, output.ToString());
    }
}
