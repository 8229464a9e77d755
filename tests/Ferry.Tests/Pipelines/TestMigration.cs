using Ferry.Shared.Bl;
using Ferry.Shared.Metadata;
using Ferry.Shared.Stg;

namespace Ferry.Tests.Pipelines;

/// <summary>Metadata for runner tests: sources with their extract limits, processes stg.&lt;source&gt;.&lt;name&gt;, pipelines of groups.</summary>
public static class TestMigration
{
    public static MigrationMetadata Create(IReadOnlyDictionary<string, int> limits, IEnumerable<string> processIds, params PipelineDefinition[] pipelines)
    {
        var sources = limits.ToDictionary(l => l.Key, l => new PgConnection(l.Key, "127.0.0.1", 5432, l.Key, "ferry", null, MaxConcurrentExtracts: l.Value));
        var tables = processIds.Select(id => id.Split('.')).Select(p =>
            new SourceTable(p[1], "public", p[2], p[2], $"{p[1]}_{p[2]}", ["id"], CdcSpec.Full, ChunkingSpec.Default)).ToList();
        var target = new PgConnection("target", "127.0.0.1", 5432, "unipacc", "ferry", null);
        return new MigrationMetadata("/nowhere/metadata", sources, target, new ObjectStoreConfig(ObjectStoreKind.Filesystem, "/nowhere/objects"), tables)
        {
            Pipelines = pipelines,
        };
    }

    /// <summary>A pipeline whose steps are one group each, named &lt;pipeline&gt;-1, &lt;pipeline&gt;-2 …</summary>
    public static PipelineDefinition Pipeline(string name, string? schedule, params IReadOnlyList<string>[] steps) =>
        new(name, steps.Select((ids, i) => new PipelineStep([new ProcessGroup($"{name}-{i + 1}", ids, ids)])).ToList(), schedule);

    /// <summary>A BL transform of unipacc.&lt;table&gt; (process bl.unipacc.&lt;table&gt;) that declares these depends (comma-separated).</summary>
    public static TransformFile Transform(string table, string depends = "") =>
        TransformFile.Parse($"/x/{table}.sql", $"-- target: unipacc.{table}\n-- key: id\n-- depends: {depends}\nSELECT 1 AS id\n");

    public static IReadOnlyList<string> Ids(string source, int count, string prefix = "t") =>
        Enumerable.Range(1, count).Select(i => $"stg.{source}.{prefix}{i}").ToList();
}
