using Ferry.Shared.Metadata;
using Ferry.Shared.Stg;
using Ferry.Tests.Metadata;

namespace Ferry.Tests.Pipelines;

public sealed class PipelinesFileTests : IDisposable
{
    private readonly MetadataFolder _folder = new();

    public PipelinesFileTests()
    {
        foreach (var (source, table) in new[] { ("qvp", "users"), ("qvp", "reports"), ("svp", "users"), ("svp", "accounts") })
            _folder.Write($"tables/{source}/{table}.yaml", $"source: {source}\ntable: public.{table}\nkey: [id]\ncdc: {{ mode: full }}\n");
    }

    public void Dispose() => _folder.Dispose();

    private string Pipelines(string yaml) => _folder.Write(PipelinesFile.FileName, yaml);

    private string[] Errors() => Assert.Throws<MetadataException>(() => MetadataLoader.Load(_folder.Root)).Errors.Select(e => e.ToString()).ToArray();

    [Fact]
    public void Groups_and_pipelines_load_with_their_processes_steps_schedule_and_mode()
    {
        var file = Pipelines("""
            groups:
              qvp: [stg.qvp.*]
              svp: stg.svp.*
              users: [stg.*.users, stg.qvp.users]
            pipelines:
              stg:
                groups:
                  - [qvp, svp]
              nightly:
                groups: [users, qvp]
                schedule: "30 2 * * 1-5"
                mode: bulk
                key_sweep: true
            """);

        var metadata = MetadataLoader.Load(_folder.Root);

        Assert.Equal(["stg", "nightly"], metadata.Pipelines.Select(p => p.Name));
        var stg = metadata.FindPipeline("stg")!;
        var step = Assert.Single(stg.Steps);
        Assert.Equal("qvp + svp", step.Name);
        Assert.Equal(["stg.qvp.reports", "stg.qvp.users", "stg.svp.accounts", "stg.svp.users"], step.ProcessIds);
        Assert.Null(stg.Schedule);
        Assert.Equal(RunMode.Incremental, stg.Mode);
        Assert.Null(stg.KeySweep);
        Assert.Equal(file, stg.File);

        var nightly = metadata.FindPipeline("nightly")!;
        Assert.Equal(["users", "qvp"], nightly.Steps.Select(s => s.Name));
        Assert.Equal(["stg.qvp.users", "stg.svp.users"], nightly.Steps[0].ProcessIds);
        Assert.Equal("30 2 * * 1-5", nightly.Schedule);
        Assert.Equal(new DateTime(2025, 1, 6, 2, 30, 0, DateTimeKind.Utc), nightly.Cron!.GetNextOccurrence(new DateTime(2025, 1, 4, 0, 0, 0, DateTimeKind.Utc)));
        Assert.Equal(RunMode.Bulk, nightly.Mode);
        Assert.True(nightly.KeySweep);
        Assert.Equal(["stg.qvp.users", "stg.svp.users"], metadata.FindGroup("users")!.ProcessIds);
        Assert.Equal(["stg.*.users", "stg.qvp.users"], metadata.FindGroup("users")!.Patterns);
    }

    [Fact]
    public void Without_a_pipelines_file_there_are_no_pipelines()
    {
        Assert.Empty(MetadataLoader.Load(_folder.Root).Pipelines);
    }

    [Fact]
    public void An_unknown_group_is_reported_at_its_line_and_column_with_a_suggestion()
    {
        var file = Pipelines("""
            groups:
              qvp: [stg.qvp.*]
            pipelines:
              stg:
                groups: [qvpp]
            """);

        Assert.Equal([$"{file}:5:14: 'pipelines.stg.groups': unknown group 'qvpp' (did you mean 'qvp'? defined: qvp)",
            $"{file}:2:3: group 'qvp' is not used by any pipeline (use it in one, or remove it)"], Errors());
    }

    [Fact]
    public void A_process_id_or_pattern_that_matches_no_process_is_reported_where_it_is_written()
    {
        var file = Pipelines("""
            groups:
              qvp:
                - stg.qvp.*
                - stg.qvp.userz
              other: [stg.nope.*]
            pipelines:
              all: { groups: [qvp, other] }
            """);

        Assert.Equal([$"{file}:4:7: 'groups.qvp': 'stg.qvp.userz' matches no process (did you mean 'stg.qvp.users'?)",
            $"{file}:5:11: 'groups.other': 'stg.nope.*' matches no process (process ids look like stg.qvp.reports)",
            $"{file}:7:19: 'pipelines.all.groups': unknown group 'qvp' (no groups are defined)",
            $"{file}:7:24: 'pipelines.all.groups': unknown group 'other' (no groups are defined)"], Errors());
    }

    [Fact]
    public void A_schedule_that_is_not_a_five_field_cron_expression_is_reported_at_the_schedule()
    {
        var file = Pipelines("""
            groups:
              qvp: [stg.qvp.*]
            pipelines:
              nightly:
                groups: [qvp]
                schedule: "0 0 2 * * *"
              hourly:
                groups: [qvp]
                schedule: "61 * * * *"
            """);

        var errors = Errors();

        Assert.Equal(2, errors.Length);
        Assert.StartsWith($"{file}:6:15: 'pipelines.nightly.schedule' is not a 5-field cron expression (minute hour day-of-month month day-of-week, UTC; e.g. \"0 2 * * *\"): '0 0 2 * * *'", errors[0]);
        Assert.StartsWith($"{file}:9:15: 'pipelines.hourly.schedule' is not a 5-field cron expression", errors[1]);
    }

    [Fact]
    public void A_group_defined_twice_is_reported_at_the_second_definition()
    {
        var file = Pipelines("""
            groups:
              qvp: [stg.qvp.*]
              qvp: [stg.svp.*]
            pipelines:
              stg: { groups: [qvp] }
            """);

        Assert.Equal([$"{file}:3:3: duplicate key 'qvp' (first given on line 2)"], Errors());
    }

    [Fact]
    public void A_pipeline_named_like_a_group_and_a_group_named_twice_in_a_pipeline_are_reported()
    {
        var file = Pipelines("""
            groups:
              qvp: [stg.qvp.*]
            pipelines:
              qvp:
                groups: [qvp]
              stg:
                groups: [qvp, qvp]
            """);

        Assert.Equal([
            $"{file}:4:3: pipeline 'qvp' has the name of the group on line 2 (a run names a pipeline or a group: give one of them another name)",
            $"{file}:7:19: 'pipelines.stg.groups' names group 'qvp' twice"], Errors());
    }

    [Fact]
    public void A_bad_mode_an_unknown_key_and_a_missing_groups_list_are_each_reported()
    {
        var file = Pipelines("""
            groups:
              qvp: [stg.qvp.*]
            pipelines:
              stg:
                groups: [qvp]
                mode: full
                shedule: "0 2 * * *"
              empty:
                mode: bulk
            """);

        Assert.Equal([
            $"{file}:7:5: unknown key 'shedule' in 'pipelines.stg' (did you mean 'schedule'? expected one of: groups, schedule, mode, key_sweep)",
            $"{file}:6:11: 'pipelines.stg.mode' must be incremental or bulk, found 'full'",
            $"{file}:9:5: missing required field 'groups' in 'pipelines.empty'"], Errors());
    }

    [Fact]
    public void The_example_pipelines_in_the_repository_cover_both_demo_sources()
    {
        var repo = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(repo, "Ferry.slnx")))
            repo = Path.GetDirectoryName(repo) ?? throw new InvalidOperationException("repository root not found");

        var metadata = MetadataLoader.Load(Path.Combine(repo, "metadata"));

        var stg = metadata.FindPipeline("stg")!;
        Assert.Equal(metadata.Tables.Select(t => t.ProcessId).Order(), stg.Steps.SelectMany(s => s.ProcessIds).Order());
        Assert.All(metadata.FindGroup("qvp")!.ProcessIds, id => Assert.StartsWith("stg.qvp.", id));
        Assert.All(metadata.FindGroup("svp")!.ProcessIds, id => Assert.StartsWith("stg.svp.", id));
        var nightly = metadata.FindPipeline("nightly")!;
        Assert.NotNull(nightly.Cron);
        Assert.Equal(RunMode.Incremental, nightly.Mode);
    }
}
