using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Ferry.FilesBench;
using Ferry.Shared.Metadata;
using Ferry.Shared.Postgres;
using Ferry.Shared.Stg;
using Ferry.Shared.Storage;
using Ferry.Worker.Files;
using Npgsql;
using NpgsqlTypes;

// bench/files: copy N objects of 10–200 KB from bucket A to bucket B of one local s3rver with Ferry's files
// process (bulk), and from A to C with `rclone copy`, in the same run; print files/s for both and the ratio.
var options = BenchArgs.Parse(args);
var work = Path.Combine(Path.GetTempPath(), $"ferry-files-bench-{Environment.ProcessId}");
Directory.CreateDirectory(work);
Console.Error.WriteLine($"work folder {work}");

await using var s3 = await LocalS3rver.StartAsync(Path.Combine(work, "s3rver"));
var pg = await LocalPostgres.StartAsync(Path.Combine(work, "pg"), new LocalPostgresOptions { Durable = false, SharedBuffers = "128MB" });
try
{
    const string passwordVariable = "FERRY_FILES_BENCH_PG_PASSWORD";
    Environment.SetEnvironmentVariable(passwordVariable, pg.Password);
    Environment.SetEnvironmentVariable("FERRY_FILES_BENCH_S3_KEY", LocalS3rver.Credential);
    var sourceDb = await pg.CreateDatabaseAsync("source");
    await pg.CreateDatabaseAsync("target");
    PgConnection Db(string name, string database) => new(name, "127.0.0.1", pg.Port, database, pg.User, new SecretRef(passwordVariable));

    foreach (var bucket in new[] { "bench-a", "bench-b", "bench-c" }) await s3.CreateBucketAsync(bucket);
    ObjectStoreConfig Bucket(string name) => new(ObjectStoreKind.S3, Endpoint: s3.Endpoint, Region: LocalS3rver.Region, Bucket: name,
        AccessKey: new SecretRef("FERRY_FILES_BENCH_S3_KEY"), SecretKey: new SecretRef("FERRY_FILES_BENCH_S3_KEY"), Prefix: "", Env: "");

    // The objects and their listing rows: deterministic sizes, uniform in [min, max] KB.
    var clock = Stopwatch.StartNew();
    var random = new Random(20240601);
    var sizes = Enumerable.Range(0, options.Files).Select(_ => random.Next(options.MinKb * 1024, options.MaxKb * 1024 + 1)).ToArray();
    var md5s = new string[options.Files];
    using (var a = (S3ObjectStore)ObjectStoreFactory.Create(Bucket("bench-a")))
        await Parallel.ForEachAsync(Enumerable.Range(0, options.Files), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var bytes = new byte[sizes[i]];
            new Random(i).NextBytes(bytes);
            md5s[i] = Convert.ToHexStringLower(MD5.HashData(bytes));
            await a.PutBytesAsync(Key(i), bytes, ct);
        });
    await using (var conn = new NpgsqlConnection(sourceDb))
    {
        await conn.OpenAsync();
        await using (var create = new NpgsqlCommand("CREATE TABLE public.files (key text PRIMARY KEY, size_bytes bigint NOT NULL, md5 text, created_at timestamptz NOT NULL)", conn))
            await create.ExecuteNonQueryAsync();
        await using var copy = await conn.BeginBinaryImportAsync("COPY public.files (key, size_bytes, md5, created_at) FROM STDIN (FORMAT binary)");
        for (var i = 0; i < options.Files; i++)
        {
            await copy.StartRowAsync();
            await copy.WriteAsync(Key(i), NpgsqlDbType.Text);
            await copy.WriteAsync((long)sizes[i], NpgsqlDbType.Bigint);
            await copy.WriteAsync(md5s[i], NpgsqlDbType.Text);
            await copy.WriteAsync(DateTime.UtcNow.AddDays(-i % 700), NpgsqlDbType.TimestampTz);
        }
        await copy.CompleteAsync();
    }
    var totalBytes = sizes.Sum(s => (long)s);
    Console.Error.WriteLine($"created {options.Files:N0} objects ({totalBytes / 1024.0 / 1024.0:N1} MiB) in bench-a in {clock.Elapsed.TotalSeconds:N1} s");

    // Ferry: the files process, bulk, A → B.
    var metadata = new MigrationMetadata(Path.Combine(work, "metadata"), new Dictionary<string, PgConnection> { ["bench"] = Db("bench", "source") },
        Db("target", "target"), new ObjectStoreConfig(ObjectStoreKind.Filesystem, Path.Combine(work, "objects")), []);
    var files = new FilesDefinition("bench", "bench", "public", "files", "key", "size_bytes", "md5", ChecksumFormat.Md5Hex, "created_at", null,
        Bucket("bench-a"), Bucket("bench-b"), "{key}", Parallelism: options.Parallelism);
    var process = new FilesProcess(metadata);
    clock.Restart();
    var ferry = await process.RunAsync(files, RunMode.Bulk, "bench-1", null, CancellationToken.None);
    var ferryTime = clock.Elapsed;
    if (ferry.Counts.Copied != options.Files)
        throw new InvalidOperationException($"Ferry copied {ferry.Counts}, expected {options.Files:N0}: {string.Join("; ", ferry.Failures.Take(5))}");
    clock.Restart();
    var rerun = await process.RunAsync(files, RunMode.Bulk, "bench-2", null, CancellationToken.None);
    var rerunTime = clock.Elapsed;

    // rclone: A → C, the same transfer count.
    clock.Restart();
    await Rclone.CopyAsync(s3.Endpoint, "bench-a", "bench-c", options.Parallelism);
    var rcloneTime = clock.Elapsed;
    var copiedByRclone = await s3.CountAsync("bench-c");
    if (copiedByRclone != options.Files)
        throw new InvalidOperationException($"rclone left {copiedByRclone:N0} objects in bench-c, expected {options.Files:N0}");

    double Rate(TimeSpan t) => options.Files / t.TotalSeconds;
    var ic = CultureInfo.InvariantCulture;
    Console.WriteLine($"bench/files: {options.Files:N0} objects of {options.MinKb}-{options.MaxKb} KB ({totalBytes / 1024.0 / 1024.0:N1} MiB), one local s3rver, parallelism {options.Parallelism}");
    Console.WriteLine(string.Format(ic, "  ferry files (bulk, server-side copy, verified)  {0,8:N1} s  {1,8:N1} files/s", ferryTime.TotalSeconds, Rate(ferryTime)));
    Console.WriteLine(string.Format(ic, "  rclone copy --transfers {0,-3}                   {1,8:N1} s  {2,8:N1} files/s", options.Parallelism, rcloneTime.TotalSeconds, Rate(rcloneTime)));
    Console.WriteLine(string.Format(ic, "  ratio ferry / rclone (files/s)                  {0,8:N2}", Rate(ferryTime) / Rate(rcloneTime)));
    Console.WriteLine(string.Format(ic, "  ferry rerun (all {0:N0} skipped)               {1,8:N1} s  {2,8:N1} files/s", rerun.Counts.Skipped, rerunTime.TotalSeconds, Rate(rerunTime)));
    return 0;
}
finally
{
    await pg.StopAsync();
    try { Directory.Delete(work, recursive: true); } catch (IOException) { }
}

static string Key(int i) => $"objects/{i % 100:00}/{i:000000}.bin";
