namespace Ferry.Tests.Infrastructure;

/// <summary>Folders of the repository the tests were built from.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string Hocon => Path.Combine(Root, "hocon");

    private static string FindRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "Ferry.slnx")))
            dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("repository root (Ferry.slnx) not found above " + AppContext.BaseDirectory);
        return dir;
    }
}
