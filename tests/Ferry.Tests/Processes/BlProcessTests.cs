using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using Ferry.Shared.Bl;
using Ferry.Shared.Metadata;
using Ferry.Shared.History;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Tests.Stg;
using Ferry.Worker.Processes;

namespace Ferry.Tests.Processes;

/// <summary>BL processes as entities on a real PostgreSQL: Idle → Transforming → Idle, one process's SQL error failing only it.</summary>
public class BlProcessTests() : TestKit(Config)
{
    private static readonly Config Config = EntityTesting.Config("max-retries = 3, min-backoff = 2s, max-backoff = 4s");

    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    private const string Good = """
        -- target: bl.people
        -- key: id
        -- deleted: gone
        SELECT id, upper(name) AS name, stg_deleted_at IS NOT NULL AS gone
        FROM stg.src_people
        WHERE stg_updated_at >= @since
        """;

    private const string Broken = """
        -- target: bl.pets
        -- key: id

        SELECT id, nmae AS name
        FROM stg.src_people
        """;

    private static async Task<(StgTestBed Bed, ProcessServices Services)> CreateAsync(string name, params (string File, string Text)[] transforms)
    {
        var bed = await StgTestBed.CreateAsync(name);
        await bed.ExecTargetAsync("""
            CREATE SCHEMA stg; CREATE SCHEMA bl;
            CREATE TABLE stg.src_people (id int PRIMARY KEY, name text, stg_updated_at timestamptz NOT NULL DEFAULT now(), stg_deleted_at timestamptz);
            INSERT INTO stg.src_people (id, name) SELECT g, 'p' || g FROM generate_series(1, 50) g;
            CREATE TABLE bl.people (id int PRIMARY KEY, name text NOT NULL);
            CREATE TABLE bl.pets (id int PRIMARY KEY, name text);
            """);
        var metadata = bed.Metadata() with { Transforms = transforms.Select(t => TransformFile.Parse($"/sql/bl/{t.File}", t.Text)).ToList() };
        return (bed, new ProcessServices(metadata, bed.Store, new RunHistory(bed.TargetConnectionString)));
    }

    private IActorRef Entity(string processId, ProcessServices services) =>
        Sys.ActorOf(Props.Create(() => new ProcessActor(processId, services)), $"p-{Guid.NewGuid():N}");

    [Fact]
    public async Task A_BL_process_transforms_merges_only_changes_and_propagates_deletes_run_after_run()
    {
        var (bed, services) = await CreateAsync("blentity", ("people.sql", Good));
        await using var _ = bed;
        var entity = Entity("bl.bl.people", services);

        var first = await EntityTesting.RunToEndAsync(entity, "bl.bl.people", RunMode.Incremental, Long);
        Assert.Equal(new MergeCounts(50, 0, 0, 0), first.LastSuccess!.Counts);

        await bed.ExecTargetAsync("UPDATE stg.src_people SET name = 'renamed', stg_updated_at = now() WHERE id = 7; " +
                                  "UPDATE stg.src_people SET stg_deleted_at = now(), stg_updated_at = now() WHERE id = 9");
        var second = await EntityTesting.RunToEndAsync(entity, "bl.bl.people", RunMode.Incremental, Long);
        Assert.Equal(new MergeCounts(0, 1, 1, 0), second.LastSuccess!.Counts);

        // A bulk run of a BL process is a full rebuild: everything read again, nothing to change.
        var rebuild = await EntityTesting.RunToEndAsync(entity, "bl.bl.people", RunMode.Bulk, Long);
        Assert.Equal(new MergeCounts(0, 0, 0, 49), rebuild.LastSuccess!.Counts);

        Assert.Equal("RENAMED", await StgTestBed.ScalarAsync<string>(bed.TargetConnectionString, "SELECT name FROM bl.people WHERE id = 7"));
        Assert.Equal(49L, await StgTestBed.ScalarAsync<long>(bed.TargetConnectionString, "SELECT count(*) FROM bl.people"));
        var history = await services.History.ListAsync("bl.bl.people");
        Assert.Equal([RunStatus.Succeeded, RunStatus.Succeeded, RunStatus.Succeeded], history.Select(h => h.Status));
        Assert.All(history, h => Assert.Equal("transforming", h.Step));
    }

    [Fact]
    public async Task A_SQL_error_fails_that_process_at_once_with_file_line_and_the_database_message_and_another_still_runs()
    {
        var (bed, services) = await CreateAsync("blbroken", ("people.sql", Good), ("pets.sql", Broken));
        await using var _ = bed;
        var pets = Entity("bl.bl.pets", services);
        var people = Entity("bl.bl.people", services);

        var petsRun = EntityTesting.RunToEndAsync(pets, "bl.bl.pets", RunMode.Incremental, Long);
        var peopleRun = EntityTesting.RunToEndAsync(people, "bl.bl.people", RunMode.Incremental, Long);
        var failed = await petsRun;
        var succeeded = await peopleRun;

        Assert.Null(failed.LastSuccess);
        var error = failed.LastFailure!.Error!;
        Assert.Contains("pets.sql:4", error);                      // the line of the bad column in the file
        Assert.Contains("column \"nmae\" does not exist", error);  // the database's own words
        Assert.Equal(1, failed.Attempt);                           // not retried: the same SQL fails the same way
        Assert.Equal(new MergeCounts(50, 0, 0, 0), succeeded.LastSuccess!.Counts);
        Assert.Equal(0L, await StgTestBed.ScalarAsync<long>(bed.TargetConnectionString, "SELECT count(*) FROM bl.pets"));
        Assert.Equal(RunStatus.Failed, Assert.Single(await services.History.ListAsync("bl.bl.pets")).Status);
    }

    [Fact]
    public async Task A_transform_joining_the_file_copies_runs_before_any_files_process_has_and_finds_no_copy_yet()
    {
        var (bed, services) = await CreateAsync("blfilesfirst", ("pets.sql", """
            -- target: bl.pets
            -- key: id
            SELECT p.id, fc.target_key AS name
            FROM stg.src_people p
            LEFT JOIN stg.file_copies fc ON fc.process_id = 'files.qvp' AND fc.source_key = p.name AND fc.status = 'copied'
            """));
        await using var _ = bed;
        var metadata = services.Metadata with { Files = [Ferry.Tests.Files.FilesTestBed.Definition()] };
        var withFiles = new ProcessServices(metadata, bed.Store, services.History);

        var run = await EntityTesting.RunToEndAsync(Entity("bl.bl.pets", withFiles), "bl.bl.pets", RunMode.Incremental, Long);

        Assert.Equal(new MergeCounts(50, 0, 0, 0), run.LastSuccess!.Counts);
        Assert.Equal(0L, await StgTestBed.ScalarAsync<long>(bed.TargetConnectionString, "SELECT count(name) FROM bl.pets"));
    }

    [Fact]
    public async Task A_process_id_that_is_not_in_the_metadata_is_rejected()
    {
        var (bed, services) = await CreateAsync("blunknown", ("people.sql", Good));
        await using var _ = bed;

        var answer = await Entity("bl.bl.nothing", services).Ask<RunRejected>(new StartRun("bl.bl.nothing", RunMode.Incremental), Long);

        Assert.Equal("no such process in the metadata", answer.Reason);
    }
}
