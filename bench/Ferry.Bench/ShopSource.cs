using System.Globalization;

namespace Ferry.Bench;

/// <summary>The source table `public.orders` in database `source`: created, measured and changed by the SQL files in sql/.</summary>
public sealed class ShopSource(BenchServer server, string sqlFolder)
{
    public const string Table = "public.orders";

    /// <summary>Every column, in table order: what the content digest covers.</summary>
    public static readonly string[] Columns =
    [
        "id", "order_no", "customer_email", "customer_name", "customer_phone", "status", "shipping_address",
        "payment_ref", "note", "items", "amount", "currency", "is_paid", "created_at", "updated_at",
    ];

    private string Sql(string file) => Path.Combine(sqlFolder, file);

    private Task<ShellResult> PsqlFileAsync(string file, long rows) => ShellPipeline.RunAsync(
        """psql -X -q -v ON_ERROR_STOP=1 -d source -v rows="$2" -f "$1" """, [Sql(file), rows.ToString(CultureInfo.InvariantCulture)],
        server.ChildEnvironment);

    public Task<ShellResult> CreateAsync(long rows) => PsqlFileAsync("source-create.sql", rows);

    /// <summary>1% of rows updated, 0.5% new, 0.2% deleted; <paramref name="rows"/> is the count the table was created with.</summary>
    public Task<ShellResult> ChangeAsync(long rows) => PsqlFileAsync("source-change.sql", rows);

    /// <summary>What the change does to a table created with <paramref name="rows"/> rows: updated, inserted, deleted.</summary>
    public static (long Updated, long Inserted, long Deleted) ExpectedChange(long rows) =>
        (rows >= 7 ? (rows - 7) / 100 + 1 : 0, rows / 200, rows >= 3 ? (rows - 3) / 500 + 1 : 0);

    /// <summary>Bytes of the whole table as COPY CSV (no header): the size the pipelines move before compression.</summary>
    public async Task<long> CsvBytesAsync()
    {
        var r = await ShellPipeline.RunAsync(
            """psql -X -q -v ON_ERROR_STOP=1 -d source -c '\copy (SELECT * FROM public.orders) to stdout with (format csv)' | wc -c""",
            [], server.ChildEnvironment);
        return long.Parse(r.Stdout.Trim(), CultureInfo.InvariantCulture);
    }

    public Task<long> SizeOnDiskAsync() => BenchServer.ScalarAsync<long>(server.Source, $"SELECT pg_total_relation_size('{Table}')");

    /// <summary>Whole days D such that rows with created_at or updated_at in the last D days are closest to <paramref name="fraction"/> of the table.</summary>
    public async Task<int> WindowDaysAsync(long rows, double fraction)
    {
        // updated_at >= created_at in every row, so the window is decided by updated_at alone; the index finds the quantile.
        var offset = (long)(rows * fraction);
        var days = await BenchServer.ScalarAsync<double>(server.Source,
            $"SELECT extract(epoch FROM now() - updated_at) / 86400 FROM {Table} ORDER BY updated_at DESC OFFSET {offset} LIMIT 1");
        return Math.Max(1, (int)Math.Round(days));
    }

    /// <summary>The window predicate over literal days, as both the baseline and Ferry's window mode read it.</summary>
    public static string WindowPredicate(int days) =>
        $"created_at >= now() - interval '{days} days' OR updated_at >= now() - interval '{days} days'";

    public Task<long> CountAsync(string? where = null) =>
        BenchServer.ScalarAsync<long>(server.Source, $"SELECT count(*) FROM {Table}{(where is null ? "" : " WHERE " + where)}");
}
