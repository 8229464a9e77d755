using Ferry.Shared.Bl;
using Ferry.Shared.Metadata;
using Ferry.Shared.Sql;
using Ferry.Shared.Storage;
using Ferry.Worker.Bl;
using Ferry.Worker.Files;
using Npgsql;
using NpgsqlTypes;

namespace Ferry.Worker.Introspection;

/// <summary>
/// The checks of <c>ferry metadata validate</c> beyond the source tables: every BL transform compiles
/// against the target (EXPLAIN, inside a transaction that is rolled back, so nothing is written) and
/// every files process's listing table, columns and stores are there.
/// </summary>
internal static class ProcessValidator
{
    /// <summary>Each transform's target table exists and its SELECT plans; a SQL error is reported at its file and line.</summary>
    public static async Task<int> CheckTransformsAsync(MigrationMetadata metadata, List<MetadataError> problems, List<MetadataError> warnings, CancellationToken ct)
    {
        if (metadata.Transforms.Count == 0) return 0;
        var connectionsFile = Path.Combine(metadata.Root, MetadataLoader.ConnectionsFileName);
        await using var conn = new NpgsqlConnection(metadata.Target.ToConnectionString("ferry metadata validate"));
        try
        {
            await conn.OpenAsync(ct);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            problems.Add(new MetadataError(connectionsFile, null, null,
                $"target {metadata.Target} cannot be checked: {e.Message}; its {metadata.Transforms.Count} transform(s) were not checked"));
            return 0;
        }

        await using var tx = await conn.BeginTransactionAsync(ct);
        // Rolled back at the end: Ferry's own DWH objects and the files table, as a first run would create them.
        await using (var dwh = new NpgsqlCommand(DwhSchema.Script, conn, tx))
            await dwh.ExecuteNonQueryAsync(ct);
        if (metadata.Files.Count > 0)
            await FileCopyTable.EnsureAsync(conn, metadata.Target.StgSchema, ct);

        var stgPrefix = $"relation \"{metadata.Target.StgSchema}.";
        foreach (var t in metadata.Transforms)
        {
            await using (var exists = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL", conn, tx))
            {
                exists.Parameters.Add(new NpgsqlParameter { Value = SqlText.Qualified(t.Target.Schema, t.Target.Name) });
                if (!(bool)(await exists.ExecuteScalarAsync(ct))!)
                {
                    problems.Add(new MetadataError(t.Path, 1, null, $"target table {TransformPlan.Show(t.Target)} does not exist in {metadata.Target}"));
                    continue;
                }
            }
            const string prefix = "EXPLAIN ";
            await tx.SaveAsync("transform", ct);
            try
            {
                await using var explain = new NpgsqlCommand(prefix + t.Query, conn, tx);
                if (t.Query.Contains("$1"))
                    explain.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = DateTime.UnixEpoch });
                await explain.ExecuteNonQueryAsync(ct);
                await tx.ReleaseAsync("transform", ct);
            }
            catch (PostgresException e)
            {
                await tx.RollbackAsync("transform", ct);
                var line = e.Position > prefix.Length ? t.LineOf(e.Position - prefix.Length) : (int?)null;
                if (e.SqlState == PostgresErrorCodes.UndefinedTable && e.MessageText.StartsWith(stgPrefix, StringComparison.Ordinal))
                    warnings.Add(new MetadataError(t.Path, line, null, $"not checked: {e.MessageText} (STG tables appear with their first load)"));
                else
                    problems.Add(new MetadataError(t.Path, line, null, $"{t.ProcessId}: {e.MessageText}{(e.Detail is { Length: > 0 } d ? $" ({d})" : "")}"));
            }
        }
        await tx.RollbackAsync(ct);
        return metadata.Transforms.Count;
    }

    /// <summary>Each files process's listing table and columns exist on its source; its source store is there and its target store answers.</summary>
    public static async Task<int> CheckFilesAsync(MigrationMetadata metadata, MetadataSourceMap positions, List<MetadataError> problems, CancellationToken ct)
    {
        var projectFolder = metadata.ProjectFolder;
        foreach (var f in metadata.Files)
        {
            var file = f.File ?? f.ProcessId;
            var listing = new QualifiedName(f.Schema, f.Table);
            try
            {
                await using var dataSource = NpgsqlDataSource.Create(metadata.Sources[f.Source].ToConnectionString("ferry metadata validate"));
                var found = await new SourceIntrospector(dataSource).DescribeAsync([listing], ct);
                if (found.GetValueOrDefault(listing) is not { } table)
                    problems.Add(positions.Error(file, "table", $"table {listing} does not exist on source {f.Source}"));
                else
                    foreach (var (role, column) in new[] { ("key", f.KeyColumn), ("size", f.SizeColumn), ("checksum", f.ChecksumColumn), ("created_at", f.CreatedAtColumn), ("deleted", f.DeletedColumn) })
                        if (column is not null && table.Column(column) is null)
                            problems.Add(positions.Error(file, "table",
                                $"columns.{role}: column '{column}' does not exist in {listing}" +
                                (NameSuggestion.Closest(column, table.Columns.Select(c => c.Name)) is { } s ? $" (did you mean '{s}'?)" : "")));
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                problems.Add(positions.Error(file, "source", $"source {f.Source} cannot be checked: {e.Message}"));
            }

            foreach (var (field, config) in new[] { ("source_store", f.SourceStore), ("target_store", f.TargetStore) })
            {
                if (field == "source_store" && config.Kind == ObjectStoreKind.Filesystem
                    && !Directory.Exists(Path.GetFullPath(Path.Combine(projectFolder, config.Path ?? "."))))
                {
                    problems.Add(positions.Error(file, field, $"source store folder {config.Path} does not exist (there is nothing to copy)"));
                    continue;
                }
                try
                {
                    var store = ObjectStoreFactory.Create(config, projectFolder);
                    try { await store.StatAsync(f.TargetKeyOf("ferry-validate-probe"), ct); }
                    finally { (store as IDisposable)?.Dispose(); }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    problems.Add(positions.Error(file, field, $"{field} cannot be reached: {e.Message}"));
                }
            }
        }
        return metadata.Files.Count;
    }
}
