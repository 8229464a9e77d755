using System.Globalization;

namespace Ferry.ClusterBench;

/// <summary>CPU seconds used so far: per node process, by the PostgreSQL server (postmaster, live backends and reaped ones), and by the whole machine.</summary>
public sealed record CpuSample(IReadOnlyDictionary<string, double> Nodes, double Postgres, double MachineBusy, double MachineTotal)
{
    /// <summary>What was used between <paramref name="before"/> and this sample.</summary>
    public CpuUse Since(CpuSample before) => new(
        Nodes.ToDictionary(n => n.Key, n => n.Value - before.Nodes.GetValueOrDefault(n.Key)),
        Postgres - before.Postgres,
        MachineBusy - before.MachineBusy,
        MachineTotal - before.MachineTotal);
}

public sealed record CpuUse(IReadOnlyDictionary<string, double> Nodes, double Postgres, double MachineBusy, double MachineTotal)
{
    /// <summary>Busy share of all cores over the interval (every process on the machine, other users' too).</summary>
    public double MachineBusyShare => MachineTotal > 0 ? MachineBusy / MachineTotal : 0;
}

/// <summary>Reads /proc (Linux): utime + stime of a process, cutime + cstime of the postmaster for its exited children.</summary>
public static class CpuSampler
{
    /// <summary>USER_HZ: clock ticks per second in /proc, 100 on every mainstream Linux build.</summary>
    private const double TicksPerSecond = 100.0;

    public static CpuSample Take(IEnumerable<(string Name, int Pid)> nodes, int? postmasterPid)
    {
        var perNode = nodes.ToDictionary(n => n.Name, n => Stat(n.Pid) is { } s ? (s.UTime + s.STime) / TicksPerSecond : 0.0);
        var pg = 0.0;
        if (postmasterPid is { } pm && Stat(pm) is { } master)
        {
            pg = (master.UTime + master.STime + master.CUTime + master.CSTime) / TicksPerSecond;
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == pm) continue;
                if (Stat(pid) is { } child && child.PPid == pm) pg += (child.UTime + child.STime) / TicksPerSecond;
            }
        }
        var (busy, total) = Machine();
        return new CpuSample(perNode, pg, busy, total);
    }

    private sealed record ProcStat(int PPid, long UTime, long STime, long CUTime, long CSTime);

    private static ProcStat? Stat(int pid)
    {
        string text;
        try { text = File.ReadAllText($"/proc/{pid}/stat"); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        // The command name (field 2) is in parentheses and may hold spaces: parse after the last ')'.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] = state (field 3); ppid = field 4, utime = 14, stime = 15, cutime = 16, cstime = 17.
        long F(int field) => long.Parse(fields[field - 3], CultureInfo.InvariantCulture);
        return new ProcStat((int)F(4), F(14), F(15), F(16), F(17));
    }

    /// <summary>Busy and total CPU seconds of all cores, from the first line of /proc/stat.</summary>
    private static (double Busy, double Total) Machine()
    {
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Take(8).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var total = cpu.Sum();
        var idle = cpu[3] + cpu[4];
        return ((total - idle) / TicksPerSecond, total / TicksPerSecond);
    }

    /// <summary>The postmaster's pid: the first line of postmaster.pid in the data folder.</summary>
    public static int? PostmasterPid(string dataDirectory)
    {
        try { return int.Parse(File.ReadLines(Path.Combine(dataDirectory, "postmaster.pid")).First().Trim(), CultureInfo.InvariantCulture); }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException) { return null; }
    }
}
