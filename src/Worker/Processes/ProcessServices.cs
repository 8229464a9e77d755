using Akka.Actor;
using Ferry.Shared.History;
using Ferry.Shared.Metadata;
using Ferry.Shared.Storage;
using Ferry.Shared.Verify;
using Ferry.Worker.Files;
using Ferry.Worker.Stg;

namespace Ferry.Worker.Processes;

/// <summary>What a worker's process entities share: the migration's metadata, the object store, the data path, run history, verifications.</summary>
public sealed class ProcessServices(MigrationMetadata metadata, IObjectStore store, RunHistory history)
{
    private readonly Lazy<string> _target = new(() => metadata.Target.ToConnectionString("ferry bl"));
    private readonly Lazy<VerifyStore> _verifications = new(() => new VerifyStore(metadata.Target.ToConnectionString("ferry verify")));

    public MigrationMetadata Metadata { get; } = metadata;

    /// <summary>The target database, where BL transforms run (the password is resolved on first use, never stored in messages).</summary>
    public string TargetConnectionString => _target.Value;

    /// <summary>The data path with its own retries off: the entity retries a failed step (after a backoff timer).</summary>
    public StgProcess Stg { get; } = new(metadata, store) { MaxAttempts = 1 };

    public RunHistory History { get; } = history;

    /// <summary>Where verify processes record what they found (ferry.verify_results in the target).</summary>
    public VerifyStore Verifications => _verifications.Value;

    /// <summary>The files processes' copy engine (source buckets to the unified bucket, recorded in STG).</summary>
    public FilesProcess Files { get; } = new(metadata);

    /// <summary>Where a finished run is reported (the pipeline runner's singleton proxy); Nobody when there is none.</summary>
    public IActorRef RunFinishedListener { get; set; } = ActorRefs.Nobody;
}
