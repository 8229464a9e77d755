namespace Ferry.Cli.Demo;

/// <summary>The two demo applications: QVP (a verification platform) and SVP (a Rails app).</summary>
public enum DemoSource
{
    Qvp,
    Svp,
}

public static class DemoSourceNames
{
    /// <summary>The name used in metadata and process ids: qvp, svp.</summary>
    public static string Name(this DemoSource source) => source switch
    {
        DemoSource.Qvp => "qvp",
        DemoSource.Svp => "svp",
        _ => throw new ArgumentOutOfRangeException(nameof(source), source, null),
    };
}
