using System.Globalization;

namespace Ferry.ClusterBench;

/// <summary>The command line; every size has a default that fits the whole benchmark in about 5–8 minutes on 2 cores.</summary>
public sealed record BenchOptions
{
    /// <summary>Experiment 1: this many tiny tables in one source, run in bulk on 1 coordinator + 1 worker, twice.</summary>
    public int TinyTables { get; init; } = 200;
    public int TinyRows { get; init; } = 10;
    /// <summary>Experiment 2: this many tables of <see cref="BulkRows"/> rows, run in bulk on 1 worker, then on 2 workers.</summary>
    public int BulkTables { get; init; } = 6;
    public long BulkRows { get; init; } = 400_000;
    /// <summary>Experiment 2: before the timed run, run the warm-up pipeline (20 tiny tables, untimed) on the fresh cluster.</summary>
    public bool BulkWarmup { get; init; } = true;
    /// <summary>How many times experiment 2 runs each worker count (in alternating order).</summary>
    public int BulkRepeats { get; init; } = 2;
    /// <summary>max_concurrent_extracts of the one source (the per-source limit on running processes).</summary>
    public int Concurrency { get; init; } = 4;
    public string SharedBuffers { get; init; } = "1GB";
    /// <summary>Which experiments: tiny, bulk or both.</summary>
    public bool RunTiny { get; init; } = true;
    public bool RunBulk { get; init; } = true;
    public string? WorkDirectory { get; init; }
    public bool Keep { get; init; }
    public TimeSpan RunTimeout { get; init; } = TimeSpan.FromMinutes(6);
    /// <summary>Extra environment variables for every node (diagnosis, e.g. DOTNET_TieredCompilation=0).</summary>
    public IReadOnlyDictionary<string, string> NodeEnvironment { get; init; } = new Dictionary<string, string>();

    public const string Usage =
        "usage: Ferry.ClusterBench [--tiny-tables N] [--tiny-rows N] [--bulk-tables N] [--bulk-rows N] [--bulk-repeats N] [--no-warmup] [--concurrency N] [--only tiny|bulk] " +
        "[--shared-buffers SIZE] [--work DIR] [--keep] [--run-timeout SECONDS] [--node-env NAME=VALUE]...";

    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var o = new BenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value\n{Usage}");
            long Count() => long.Parse(Value().Replace("_", "").Replace(",", ""), CultureInfo.InvariantCulture);
            o = args[i] switch
            {
                "--tiny-tables" => o with { TinyTables = (int)Count() },
                "--tiny-rows" => o with { TinyRows = (int)Count() },
                "--bulk-tables" => o with { BulkTables = (int)Count() },
                "--bulk-rows" => o with { BulkRows = Count() },
                "--no-warmup" => o with { BulkWarmup = false },
                "--bulk-repeats" => o with { BulkRepeats = (int)Count() },
                "--concurrency" => o with { Concurrency = (int)Count() },
                "--only" => Value() switch
                {
                    "tiny" => o with { RunTiny = true, RunBulk = false },
                    "bulk" => o with { RunTiny = false, RunBulk = true },
                    var v => throw new ArgumentException($"--only {v}: expected tiny or bulk\n{Usage}"),
                },
                "--shared-buffers" => o with { SharedBuffers = Value() },
                "--work" => o with { WorkDirectory = Value() },
                "--keep" => o with { Keep = true },
                "--node-env" => Value() is var kv && kv.IndexOf('=') is > 0 and var eq
                    ? o with { NodeEnvironment = new Dictionary<string, string>(o.NodeEnvironment) { [kv[..eq]] = kv[(eq + 1)..] } }
                    : throw new ArgumentException($"--node-env expects NAME=VALUE\n{Usage}"),
                "--run-timeout" => o with { RunTimeout = TimeSpan.FromSeconds(Count()) },
                "-h" or "--help" => throw new ArgumentException(Usage),
                _ => throw new ArgumentException($"unknown argument {args[i]}\n{Usage}"),
            };
        }
        if (o.TinyTables is < 1 or > 999) throw new ArgumentException("--tiny-tables must be between 1 and 999");
        if (o.TinyRows < 1 || o.BulkTables < 1 || o.BulkRows < 1 || o.BulkRepeats < 1 || o.Concurrency < 1)
            throw new ArgumentException("sizes and --concurrency must be at least 1");
        return o;
    }
}
