namespace Ferry.Worker.Obfuscation;

/// <summary>The shipped word list behind the rule <c>name</c> (names.txt, embedded): first names and last names.</summary>
public static class FakeNames
{
    private static readonly Lazy<(string[] First, string[] Last)> Lists = new(Read);

    public static IReadOnlyList<string> First => Lists.Value.First;
    public static IReadOnlyList<string> Last => Lists.Value.Last;

    private static (string[], string[]) Read()
    {
        using var stream = typeof(FakeNames).Assembly.GetManifestResourceStream("Ferry.Worker.Obfuscation.names.txt")
            ?? throw new InvalidOperationException("the embedded name list Ferry.Worker.Obfuscation.names.txt is missing from the worker assembly");
        using var reader = new StreamReader(stream);
        var first = new List<string>();
        var last = new List<string>();
        List<string>? into = null;
        while (reader.ReadLine() is { } line)
        {
            line = line.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (line == "[first]") into = first;
            else if (line == "[last]") into = last;
            else into?.Add(line);
        }
        if (first.Count == 0 || last.Count == 0)
            throw new InvalidOperationException("the embedded name list has no [first] or no [last] names");
        return ([.. first], [.. last]);
    }
}
