using System.Reflection;

namespace Ferry.Worker.Verify;

/// <summary>The catalog queries of verify (sql/verify/*.sql), shipped inside this assembly.</summary>
internal static class VerifySql
{
    public static string ForeignKeys { get; } = Read("foreign_keys.sql");

    public static string PrimaryKey { get; } = Read("primary_key.sql");

    private static string Read(string file)
    {
        var name = "Ferry.Worker.Sql.verify." + file;
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"{name} is not embedded in {Assembly.GetExecutingAssembly().GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
