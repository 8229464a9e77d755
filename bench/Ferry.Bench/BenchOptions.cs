using System.Globalization;

namespace Ferry.Bench;

/// <summary>The command line: <c>Ferry.Bench [--rows N] [--work DIR] [--keep] [--chunk-rows N] [--threshold-rows N] [--parallelism N] [--shared-buffers 1GB] [--log-min-duration MS] [--explain-min-duration MS] [--verify [--leaf-rows N] [--fanout N]] [--obfuscate]</c>.</summary>
public sealed record BenchOptions
{
    public long Rows { get; init; } = 5_000_000;
    /// <summary>Where the server, the object store and the baseline's files live; a fresh temp folder when null.</summary>
    public string? WorkDirectory { get; init; }
    /// <summary>Keep the work folder (and its PostgreSQL data) after the run, for inspection.</summary>
    public bool Keep { get; init; }
    public long ThresholdRows { get; init; } = 1_000_000;
    public long RowsPerChunk { get; init; } = 1_000_000;
    public int Parallelism { get; init; } = 2;
    public string SharedBuffers { get; init; } = "1GB";
    /// <summary>Log every statement slower than this many ms to the server's log (with --keep, to see where the time goes).</summary>
    public int? LogMinDurationMs { get; init; }
    /// <summary>Log the plans (auto_explain, with row counts and buffers) of statements slower than this many ms. Diagnosis only: it slows every query.</summary>
    public int? ExplainMinDurationMs { get; init; }
    /// <summary>Run the verify benchmark (TableVerifier against pgcopydb's count + hash-sum query) instead of the STG cases.</summary>
    public bool Verify { get; init; }
    /// <summary>Run the obfuscated-vs-plain extract comparison instead (<see cref="ObfuscationBench"/>).</summary>
    public bool Obfuscate { get; init; }
    /// <summary>The verify's VerifySettings.LeafRows and Fanout.</summary>
    public int LeafRows { get; init; } = 2_000;
    public int Fanout { get; init; } = 16;

    public const string Usage =
        "usage: Ferry.Bench [--rows N] [--work DIR] [--keep] [--chunk-rows N] [--threshold-rows N] [--parallelism N] [--shared-buffers SIZE] [--log-min-duration MS] [--explain-min-duration MS] [--verify [--leaf-rows N] [--fanout N]] [--obfuscate]";

    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value\n{Usage}");
            long Count() => long.Parse(Value().Replace("_", "").Replace(",", ""), CultureInfo.InvariantCulture);
            options = args[i] switch
            {
                "--rows" => options with { Rows = Count() },
                "--work" => options with { WorkDirectory = Value() },
                "--keep" => options with { Keep = true },
                "--chunk-rows" => options with { RowsPerChunk = Count() },
                "--threshold-rows" => options with { ThresholdRows = Count() },
                "--parallelism" => options with { Parallelism = (int)Count() },
                "--shared-buffers" => options with { SharedBuffers = Value() },
                "--log-min-duration" => options with { LogMinDurationMs = (int)Count() },
                "--explain-min-duration" => options with { ExplainMinDurationMs = (int)Count() },
                "--verify" => options with { Verify = true },
                "--obfuscate" => options with { Obfuscate = true },
                "--leaf-rows" => options with { LeafRows = (int)Count() },
                "--fanout" => options with { Fanout = (int)Count() },
                "-h" or "--help" => throw new ArgumentException(Usage),
                _ => throw new ArgumentException($"unknown argument {args[i]}\n{Usage}"),
            };
        }
        if (options.Rows < 1000) throw new ArgumentException("--rows must be at least 1000");
        return options;
    }
}
