using Ferry.Shared.Metadata;
using Ferry.Shared.Sql;
using Ferry.Shared.Stg;
using Npgsql;

namespace Ferry.Worker.Stg;

/// <summary>
/// Load table → STG, in one transaction. Rows are compared by key and row hash; only real changes are
/// written (a re-run of the same data writes nothing). A complete extract marks STG rows it no longer
/// contains as deleted and revives rows that come back; a key sweep does the same for incremental runs;
/// a soft-delete column in the source sets stg_deleted_at.
/// </summary>
public static class Merger
{
    public static async Task<MergeCounts> MergeAsync(Manifest manifest, string targetConnectionString, string stgSchema, long loadedRows, CancellationToken ct = default)
    {
        var stg = SqlText.Qualified(stgSchema, manifest.StgTable);
        var load = SqlText.Qualified(Loader.LoadSchema, Loader.LoadTableName(manifest.StgTable, manifest.RunId));
        var keys = SqlText.Qualified(Loader.LoadSchema, Loader.LoadTableName(manifest.StgTable, manifest.RunId, "__keys"));
        var cols = manifest.Columns.Select(c => c.Name).ToList();
        string KeyJoin(string a, string b) => string.Join(" AND ", manifest.Key.Select(k => $"{a}.{SqlText.Ident(k)} = {b}.{SqlText.Ident(k)}"));
        string SoftDeleted(string alias) => manifest.SoftDeleteColumn is { } s ? $"({alias}.{SqlText.Ident(s)} IS NOT NULL)" : "false";

        await using var conn = await PgConnect.OpenAsync(targetConnectionString, ct);
        await PgCopy.PinSessionAsync(conn, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await CheckLoadTableAsync(conn, manifest, load, loadedRows, ct);
        if (!manifest.Complete)
        {
            // An incremental load is a small slice of STG: find its rows by primary key. With the default
            // random_page_cost the planner often prefers a hash join that reads all of STG on every run.
            await conn.ExecAsync("SET LOCAL random_page_cost = 1.1", ct);
        }
        await conn.ExecAsync($"LOCK TABLE {stg} IN SHARE ROW EXCLUSIVE MODE", ct);

        // The changed rows only: new keys, different hashes, or a delete marker that flips.
        await conn.ExecAsync($"""
            CREATE TEMP TABLE ferry_diff ON COMMIT DROP AS
            SELECT s.*, t.stg_row_hash IS NULL AS is_new, t.stg_deleted_at AS old_deleted_at
            FROM {load} s LEFT JOIN {stg} t ON {KeyJoin("t", "s")}
            WHERE t.stg_row_hash IS NULL OR t.stg_row_hash <> s.stg_row_hash OR (t.stg_deleted_at IS NOT NULL) <> {SoftDeleted("s")}
            """, ct);

        long inserted, deleted, updated;
        await using (var count = new NpgsqlCommand($"""
            SELECT count(*) FILTER (WHERE is_new),
                   count(*) FILTER (WHERE NOT is_new AND {SoftDeleted("d")} AND old_deleted_at IS NULL),
                   count(*) FILTER (WHERE NOT is_new AND NOT ({SoftDeleted("d")} AND old_deleted_at IS NULL))
            FROM ferry_diff d
            """, conn))
        await using (var r = await count.ExecuteReaderAsync(ct))
        {
            await r.ReadAsync(ct);
            (inserted, deleted, updated) = (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2));
        }

        var run = new NpgsqlParameter { Value = manifest.RunId };
        await conn.ExecAsync($"""
            INSERT INTO {stg} ({SqlText.IdentList(cols)}, stg_row_hash, stg_inserted_at, stg_updated_at, stg_deleted_at, stg_run_id)
            SELECT {SqlText.IdentList(cols, "d")}, d.stg_row_hash, now(), now(), CASE WHEN {SoftDeleted("d")} THEN now() END, $1
            FROM ferry_diff d WHERE d.is_new
            """, ct, run);
        await conn.ExecAsync($"""
            UPDATE {stg} t SET ({SqlText.IdentList(cols)}) = ROW({SqlText.IdentList(cols, "d")}),
                stg_row_hash = d.stg_row_hash, stg_updated_at = now(),
                stg_deleted_at = CASE WHEN {SoftDeleted("d")} THEN coalesce(t.stg_deleted_at, now()) END, stg_run_id = $1
            FROM ferry_diff d WHERE NOT d.is_new AND {KeyJoin("t", "d")}
            """, ct, run.Clone());

        var unchanged = loadedRows - inserted - updated - deleted;
        // Hard deletes: what a complete extract, or the key sweep, no longer has.
        var stillThere = manifest.Complete ? load : manifest.Keys is not null ? keys : null;
        if (stillThere is not null)
            deleted += await conn.ExecAsync($"""
                UPDATE {stg} t SET stg_deleted_at = now(), stg_updated_at = now(), stg_run_id = $1
                WHERE t.stg_deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM {stillThere} k WHERE {KeyJoin("k", "t")})
                """, ct, run.Clone());

        await conn.ExecAsync(Loader.DropLoadTablesSql(manifest), ct);
        await tx.CommitAsync(ct);
        return new MergeCounts(inserted, updated, deleted, unchanged);
    }

    private static async Task CheckLoadTableAsync(NpgsqlConnection conn, Manifest manifest, string load, long loadedRows, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT obj_description(to_regclass($1), 'pg_class')", conn) { Parameters = { new() { Value = load } } };
        var note = await cmd.ExecuteScalarAsync(ct) as string;
        if (note != Loader.LoadNote(manifest.RunId, loadedRows))
            throw new LoadTableMissingException(
                $"{manifest.ProcessId}: merge failed: the load table {load} does not hold run {manifest.RunId} ({note ?? "missing"}); load the run again; STG unchanged");
    }

}
