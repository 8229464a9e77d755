using System.Globalization;
using System.Text.RegularExpressions;

namespace Ferry.Bench;

/// <summary>What one baseline run did and how long each of its three steps took.</summary>
public sealed record BaselineResult(TimeSpan Extract, TimeSpan Load, TimeSpan Merge, long Rows, long FileBytes, long Upserted, long MarkedDeleted)
{
    public TimeSpan Total => Extract + Load + Merge;
}

/// <summary>
/// The baseline: what an engineer would script with the stock tools. psql's \copy piped through
/// `gzip -1` into a file; the file gunzipped into psql's \copy into an unlogged load table; one
/// transaction that upserts with an md5 of each row (writing only rows whose md5 changed) and, for
/// full loads, marks rows the load no longer has as deleted. STG is baseline.orders.
/// </summary>
public sealed partial class BaselineRun(BenchServer server, string sqlFolder, string filesFolder)
{
    private const string Psql = "psql -X -v ON_ERROR_STOP=1";

    public const string StgTable = "baseline.orders";

    private string Sql(string file) => Path.Combine(sqlFolder, file);

    /// <summary>An empty STG table (and no load table): the state before a first load.</summary>
    public Task ResetAsync() =>
        ShellPipeline.RunAsync($"""{Psql} -q -d target -f "$1" """, [Sql("baseline-stg.sql")], server.ChildEnvironment);

    /// <param name="name">Names the extract file.</param>
    /// <param name="where">The CDC predicate; null extracts the whole table (a full load, which marks missing rows deleted).</param>
    public async Task<BaselineResult> RunAsync(string name, string? where)
    {
        var file = Path.Combine(filesFolder, $"{name}.csv.gz");
        var query = "SELECT * FROM public.orders" + (where is null ? "" : " WHERE " + where);
        var env = server.ChildEnvironment;

        var extract = await ShellPipeline.RunAsync(
            $"""{Psql} -q -d source -c "$1" | gzip -1 > "$2" """,
            [$@"\copy ({query}) to stdout with (format csv)", file], env);

        var load = await ShellPipeline.RunAsync(
            $"""
            {Psql} -q -d target -f "$1"
            gunzip -c "$2" | {Psql} -d target -c '\copy baseline.orders_load from stdin with (format csv)'
            {Psql} -q -d target -c 'ANALYZE baseline.orders_load'
            """,
            [Sql("baseline-load-table.sql"), file], env);
        var rows = Count(CopyTag(), load.Stdout, "COPY");

        var mergeFiles = where is null ? new[] { "baseline-upsert.sql", "baseline-mark-deleted.sql" } : ["baseline-upsert.sql"];
        var merge = await ShellPipeline.RunAsync(
            $"""{Psql} -1 -d target {string.Join(' ', mergeFiles.Select((_, i) => $"-f \"${i + 1}\""))} -c 'DROP TABLE baseline.orders_load'""",
            mergeFiles.Select(Sql).ToList(), env);

        return new BaselineResult(extract.Elapsed, load.Elapsed, merge.Elapsed, rows, new FileInfo(file).Length,
            Count(InsertTag(), merge.Stdout, "INSERT"), where is null ? Count(UpdateTag(), merge.Stdout, "UPDATE") : 0);
    }

    private static long Count(Regex tag, string output, string what)
    {
        var m = tag.Match(output);
        return m.Success ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"baseline: psql printed no {what} tag: {output.Trim()}");
    }

    [GeneratedRegex(@"^COPY (\d+)$", RegexOptions.Multiline)]
    private static partial Regex CopyTag();

    [GeneratedRegex(@"^INSERT 0 (\d+)$", RegexOptions.Multiline)]
    private static partial Regex InsertTag();

    [GeneratedRegex(@"^UPDATE (\d+)$", RegexOptions.Multiline)]
    private static partial Regex UpdateTag();
}
