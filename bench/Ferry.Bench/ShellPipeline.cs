using System.Diagnostics;

namespace Ferry.Bench;

public sealed record ShellResult(TimeSpan Elapsed, string Stdout);

/// <summary>
/// Runs a `bash -c` pipeline, the way an engineer would script the baseline by hand. Values reach the
/// script as positional arguments ($1, $2, …), never spliced into its text; the password only through
/// the child's environment.
/// </summary>
public static class ShellPipeline
{
    public static async Task<ShellResult> RunAsync(string script, IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment,
        CancellationToken ct = default)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("set -euo pipefail\n" + script);
        psi.ArgumentList.Add("baseline"); // $0
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (name, value) in environment) psi.Environment[name] = value;
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start bash");
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        var elapsed = clock.Elapsed;
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"baseline pipeline failed ({p.ExitCode}): {(await stderr).Trim()}\nscript: {script}");
        return new ShellResult(elapsed, await stdout);
    }
}
