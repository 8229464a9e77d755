using System.Globalization;

namespace Ferry.FaultBench;

/// <summary>The faults the suite injects, one per iteration.</summary>
public enum FaultKind { WorkerKill, CoordinatorKill, SamePortRestart, CopyTerminate, TargetStop, Partition }

public static class FaultKinds
{
    public static readonly IReadOnlyList<FaultKind> All = Enum.GetValues<FaultKind>();

    public static string Name(FaultKind kind) => kind switch
    {
        FaultKind.WorkerKill => "worker-kill",
        FaultKind.CoordinatorKill => "coordinator-kill",
        FaultKind.SamePortRestart => "same-port-restart",
        FaultKind.CopyTerminate => "copy-terminate",
        FaultKind.TargetStop => "target-stop",
        FaultKind.Partition => "partition",
        _ => kind.ToString(),
    };

    public static FaultKind Parse(string name) =>
        All.FirstOrDefault(k => Name(k) == name.Trim(), (FaultKind)(-1)) is var k && (int)k >= 0
            ? k
            : throw new ArgumentException($"unknown fault kind '{name}' (expected {string.Join(", ", All.Select(Name))})");
}

/// <summary>The command line. The defaults are the full run: 24 iterations, four of each kind, in a seeded order.</summary>
public sealed record FaultOptions
{
    public int Iterations { get; init; } = 24;
    public IReadOnlyList<FaultKind> Kinds { get; init; } = FaultKinds.All;
    public int Seed { get; init; } = 14;
    public int Tables { get; init; } = 4;
    public long Rows { get; init; } = 150_000;
    public int Workers { get; init; } = 2;
    public int Concurrency { get; init; } = 4;
    /// <summary>How long the target PostgreSQL stays stopped in a target-stop fault.</summary>
    public TimeSpan TargetDown { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Every pipeline run (and every follow-up run) must end within this, or the iteration counts as not completed.</summary>
    public TimeSpan RunTimeout { get; init; } = TimeSpan.FromSeconds(240);
    /// <summary>The whole suite stops itself after this (iterations not started are reported as skipped).</summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromMinutes(60);
    public string? WorkDirectory { get; init; }
    public bool Keep { get; init; }
    /// <summary>HOCON lines appended to the nodes' copy of hocon/base.conf (to try a setting; the repository's file is untouched).</summary>
    public IReadOnlyList<string> Hocon { get; init; } = [];

    public const string Usage =
        "usage: Ferry.FaultBench [--iterations N] [--kinds worker-kill,coordinator-kill,same-port-restart,copy-terminate,target-stop,partition] " +
        "[--seed N] [--tables N] [--rows N] [--workers N] [--concurrency N] [--target-down SECONDS] [--run-timeout SECONDS] [--deadline MINUTES] [--work DIR] [--keep] [--hocon 'akka.x = y']...";

    public static FaultOptions Parse(IReadOnlyList<string> args)
    {
        var o = new FaultOptions();
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value\n{Usage}");
            long Count() => long.Parse(Value().Replace("_", "").Replace(",", ""), CultureInfo.InvariantCulture);
            o = args[i] switch
            {
                "--iterations" => o with { Iterations = (int)Count() },
                "--kinds" => o with { Kinds = Value().Split(',', StringSplitOptions.RemoveEmptyEntries).Select(FaultKinds.Parse).Distinct().ToList() },
                "--seed" => o with { Seed = (int)Count() },
                "--tables" => o with { Tables = (int)Count() },
                "--rows" => o with { Rows = Count() },
                "--workers" => o with { Workers = (int)Count() },
                "--concurrency" => o with { Concurrency = (int)Count() },
                "--target-down" => o with { TargetDown = TimeSpan.FromSeconds(Count()) },
                "--run-timeout" => o with { RunTimeout = TimeSpan.FromSeconds(Count()) },
                "--deadline" => o with { Deadline = TimeSpan.FromMinutes(Count()) },
                "--work" => o with { WorkDirectory = Value() },
                "--keep" => o with { Keep = true },
                "--hocon" => o with { Hocon = [.. o.Hocon, Value()] },
                "-h" or "--help" => throw new ArgumentException(Usage),
                _ => throw new ArgumentException($"unknown argument {args[i]}\n{Usage}"),
            };
        }
        if (o.Iterations < 1 || o.Tables < 1 || o.Rows < 1000 || o.Concurrency < 1) throw new ArgumentException("--iterations, --tables, --concurrency ≥ 1; --rows ≥ 1000");
        // Keep-majority: with the coordinator and two workers, one lost worker leaves two of three, a majority.
        if (o.Workers is < 2 or > 8) throw new ArgumentException("--workers must be between 2 and 8");
        if (o.Kinds.Count == 0) throw new ArgumentException("--kinds is empty");
        return o;
    }

    /// <summary>
    /// The kinds in the order they run: each kind as often as the others (round-robin over the shuffled
    /// kinds), shuffled with the seed, so a run of N iterations is the same every time.
    /// </summary>
    public IReadOnlyList<FaultKind> Schedule()
    {
        var random = new Random(Seed);
        var list = Enumerable.Range(0, Iterations).Select(i => Kinds[i % Kinds.Count]).ToList();
        for (var i = list.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
        return list;
    }
}
