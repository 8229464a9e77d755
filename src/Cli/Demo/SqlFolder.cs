namespace Ferry.Cli.Demo;

/// <summary>
/// Finds the hand-written SQL: FERRY_SQL_DIR when set, else the sql folder copied beside the
/// binary (see Ferry.Cli.csproj), else the sql folder of the checkout that holds Ferry.slnx,
/// looked for upwards from the binary and from the working directory.
/// </summary>
public static class SqlFolder
{
    public static string Locate()
    {
        var fromEnv = Environment.GetEnvironmentVariable("FERRY_SQL_DIR");
        if (!string.IsNullOrEmpty(fromEnv))
            return Directory.Exists(fromEnv)
                ? Path.GetFullPath(fromEnv)
                : throw new DirectoryNotFoundException($"FERRY_SQL_DIR is {fromEnv}, which is not a folder");

        var beside = Path.Combine(AppContext.BaseDirectory, "sql");
        if (Directory.Exists(beside))
            return beside;

        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (System.IO.File.Exists(Path.Combine(dir.FullName, "Ferry.slnx")) && Directory.Exists(Path.Combine(dir.FullName, "sql")))
                    return Path.Combine(dir.FullName, "sql");

        throw new DirectoryNotFoundException(
            $"the sql folder was found neither beside {AppContext.BaseDirectory} nor in a checkout holding Ferry.slnx above it or above {Directory.GetCurrentDirectory()}; set FERRY_SQL_DIR");
    }

    /// <summary>The full path of <paramref name="relativePath"/> (e.g. demo/qvp_schema.sql), which must exist.</summary>
    public static string File(string relativePath)
    {
        var root = Locate();
        var path = Path.Combine(root, relativePath);
        return System.IO.File.Exists(path) ? path : throw new FileNotFoundException($"{relativePath} is missing from the sql folder {root}", path);
    }
}
