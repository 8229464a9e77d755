using System.Diagnostics;
using System.Text.Json;

namespace Ferry.Bench;

/// <summary>
/// Runs one bench case in a child process (this binary with the case's flag and a spec file), so that its peak
/// memory and its JIT are its own, and reads back the result the child wrote.
/// </summary>
public static class ChildRun
{
    /// <returns>The child's result and its wall-clock time from start to exit.</returns>
    public static async Task<(TResult Result, TimeSpan Wall)> RunAsync<TSpec, TResult>(string flag, TSpec spec, string specFile, string resultFile,
        IReadOnlyDictionary<string, string> environment, string what)
    {
        await File.WriteAllBytesAsync(specFile, JsonSerializer.SerializeToUtf8Bytes(spec));
        File.Delete(resultFile);
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this program's path");
        var psi = new ProcessStartInfo(self) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            psi.ArgumentList.Add(typeof(ChildRun).Assembly.Location);
        psi.ArgumentList.Add(flag);
        psi.ArgumentList.Add(specFile);
        foreach (var (name, value) in environment) psi.Environment[name] = value;
        var clock = Stopwatch.StartNew();
        using var child = Process.Start(psi) ?? throw new InvalidOperationException($"could not start the {what} child process");
        await child.WaitForExitAsync();
        var wall = clock.Elapsed;
        if (child.ExitCode != 0)
            throw new InvalidOperationException($"the {what} child process failed ({child.ExitCode}); its error is above");
        var result = JsonSerializer.Deserialize<TResult>(await File.ReadAllBytesAsync(resultFile))
                     ?? throw new InvalidOperationException($"the {what} child wrote an empty result");
        return (result, wall);
    }
}
