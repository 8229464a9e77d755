using Npgsql;

namespace Ferry.Worker.Stg;

/// <summary>
/// Byte-level access to text-format COPY. Npgsql's raw COPY API accepts only the binary format, and its
/// text API decodes to chars; Ferry wants the CSV bytes as the server sends them (they are stored and
/// hashed as they are), so it uses the text API's underlying stream and never reads through the decoder.
/// </summary>
public static class PgCopy
{
    /// <summary>The session settings that make a row's text the same in every run (see <see cref="Ferry.Shared.Stg.ExtractSettings"/>).</summary>
    public const string PinSettingsSql =
        "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; " +
        "SET extra_float_digits = 1; SET bytea_output = 'hex'; SET client_encoding = 'UTF8'";

    public static async Task PinSessionAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(PinSettingsSql, conn);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Starts `COPY … TO STDOUT (FORMAT csv …)` and returns the raw byte stream. Dispose it to finish.</summary>
    public static async Task<Stream> ExportAsync(NpgsqlConnection conn, string copyToSql, CancellationToken ct)
    {
        var reader = await conn.BeginTextExportAsync(copyToSql, ct);
        return ((StreamReader)reader).BaseStream;
    }

    /// <summary>
    /// Starts `COPY … FROM STDIN (FORMAT csv …)`; write raw CSV bytes to <see cref="CopyImport.Stream"/>,
    /// then <see cref="CopyImport.CompleteAsync"/>. Disposing without completing cancels the COPY.
    /// </summary>
    public static async Task<CopyImport> ImportAsync(NpgsqlConnection conn, string copyFromSql, CancellationToken ct)
    {
        var writer = await conn.BeginTextImportAsync(copyFromSql, ct);
        return new CopyImport((NpgsqlCopyTextWriter)writer);
    }

    public sealed class CopyImport(NpgsqlCopyTextWriter writer) : IAsyncDisposable
    {
        private bool _done;
        public Stream Stream => writer.BaseStream;

        public async Task CompleteAsync()
        {
            _done = true;
            await writer.DisposeAsync();
        }

        /// <summary>Cancels an unfinished COPY. Runs while another exception unwinds, so it must not replace it.</summary>
        public async ValueTask DisposeAsync()
        {
            if (_done) return;
            _done = true;
            try { await writer.CancelAsync(); }
            catch (Exception e) when (e is PostgresException or ObjectDisposedException or NpgsqlException or InvalidOperationException)
            {
                // The server confirms a cancel with an error, and a COPY the server already aborted is simply over.
            }
            try { await writer.DisposeAsync(); }
            catch (Exception e) when (e is PostgresException or ObjectDisposedException or NpgsqlException or InvalidOperationException) { }
        }
    }
}
