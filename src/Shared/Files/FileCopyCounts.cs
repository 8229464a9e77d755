namespace Ferry.Shared.Files;

/// <summary>What a files run did: objects copied and verified, already present and verified (skipped), and failed.</summary>
public sealed record FileCopyCounts(long Copied, long Skipped, long Failed)
{
    public static FileCopyCounts Zero { get; } = new(0, 0, 0);

    public long Total => Copied + Skipped + Failed;

    public FileCopyCounts Add(FileCopyCounts other) => new(Copied + other.Copied, Skipped + other.Skipped, Failed + other.Failed);
}
