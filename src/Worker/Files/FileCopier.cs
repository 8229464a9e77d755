using System.Buffers;
using System.Security.Cryptography;
using Ferry.Shared.Metadata;
using Ferry.Shared.Storage;
using Ferry.Worker.Stg;

namespace Ferry.Worker.Files;

internal enum CopyStatus { Copied, Skipped, Failed }

/// <summary>What happened to one object. <see cref="TargetFailure"/>: the failure came from the target store (see <see cref="FileCopier"/>).</summary>
internal sealed record CopyOutcome(ListedFile File, CopyStatus Status, string? TargetKey, long? SizeBytes, string? Checksum, string? Error, bool TargetFailure = false);

/// <summary>
/// Copies one object from the source store to the target store and verifies it: server-side when the
/// target can copy from the source (one S3 endpoint, one set of credentials), else streamed through an
/// MD5 with a fixed buffer. Size must match the listing, and the MD5 must match the listing's checksum
/// when it has one. Every problem with one object (missing, unreadable, wrong size or checksum, a key
/// the store refuses) becomes a failed outcome, never an exception; a wrong object is never published
/// by a streamed copy and is deleted after a server-side one.
/// </summary>
internal sealed class FileCopier(FilesDefinition files, IObjectStore source, IObjectStore target)
{
    private const int BufferSize = 128 * 1024;

    private readonly IServerSideCopy? _serverSide = target is IServerSideCopy c && c.CanCopyFrom(source) ? c : null;

    public bool ServerSide => _serverSide is not null;

    /// <summary>Tries transient failures (I/O errors other than a missing object) this many times in the run.</summary>
    public int MaxAttempts { get; init; } = 2;

    public async Task<CopyOutcome> CopyAsync(ListedFile file, CancellationToken ct)
    {
        string? expected;
        try
        {
            expected = FileChecksum.FromListing(file.Checksum, files.ChecksumFormat);
        }
        catch (FormatException e)
        {
            return Fail(file, $"{files.ListingTable}.{files.ChecksumColumn}: {e.Message}");
        }

        var targetKey = files.TargetKeyOf(file.SourceKey);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (await IsAlreadyThereAsync(file, targetKey, expected, ct))
                    return new CopyOutcome(file, CopyStatus.Skipped, targetKey, file.SizeBytes, file.Previous!.Checksum, null);
                var (size, checksum) = _serverSide is not null && (file.SizeBytes ?? 0) <= _serverSide.MaxServerSideCopyBytes
                    ? await CopyServerSideAsync(file, targetKey, expected, ct)
                    : await CopyStreamedAsync(file, targetKey, expected, ct);
                return new CopyOutcome(file, CopyStatus.Copied, targetKey, size, checksum, null);
            }
            catch (VerificationException e)
            {
                return Fail(file, e.Message, expected);
            }
            catch (ObjectNotFoundException e)
            {
                return Fail(file, $"source object {e.Key} not found in {source.Describe()}", expected);
            }
            catch (ArgumentException e)
            {
                // A key one of the stores cannot hold (ObjectKey's rules): no retry will fix it.
                return Fail(file, e.Message.Split(" (Parameter", 2)[0], expected);
            }
            catch (Exception e) when (!(e is OperationCanceledException && ct.IsCancellationRequested))
            {
                var inner = e is TargetException t ? t.InnerException! : e;
                if (attempt < MaxAttempts && inner is IOException or HttpRequestException or TimeoutException)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), ct);
                    continue;
                }
                return Fail(file, ErrorText.Of(inner), expected, e is TargetException);
            }
        }
    }

    private CopyOutcome Fail(ListedFile file, string error, string? expected = null, bool targetFailure = false) =>
        new(file, CopyStatus.Failed, null, file.SizeBytes, expected, error, targetFailure);

    /// <summary>Copied in an earlier run with the same size and checksum, and the target object is still there with that size.</summary>
    private async Task<bool> IsAlreadyThereAsync(ListedFile file, string targetKey, string? expected, CancellationToken ct)
    {
        if (file.Previous is not { Status: FileCopyTable.Copied } p || p.TargetKey != targetKey || file.SizeBytes is null || p.SizeBytes != file.SizeBytes)
            return false;
        if (expected is not null && p.Checksum != expected) return false;
        var info = await Target(() => target.StatAsync(targetKey, ct));
        return info is not null && info.Size == file.SizeBytes;
    }

    private async Task<(long Size, string Checksum)> CopyServerSideAsync(ListedFile file, string targetKey, string? expected, CancellationToken ct)
    {
        string? etag;
        try
        {
            etag = await _serverSide!.CopyFromAsync(source, file.SourceKey, targetKey, ct);
        }
        catch (Exception e) when (e is not (ObjectNotFoundException or OperationCanceledException or ArgumentException))
        {
            throw new TargetException(e);
        }
        try
        {
            // The copy's ETag is its MD5 (single part): equal to the listing's MD5, the copy holds exactly the bytes the
            // source application recorded, so its size is theirs too, and no second request is needed.
            if (expected is not null && file.SizeBytes is { } listedSize && FileChecksum.FromETag(etag) is { } copiedMd5)
            {
                if (copiedMd5 != expected)
                    throw new VerificationException($"checksum mismatch: {files.ListingTable} says {expected}, the copy has {copiedMd5}");
                return (listedSize, copiedMd5);
            }
            var info = await target.StatAsync(targetKey, ct)
                ?? throw new TargetException(new IOException($"the copy of {file.SourceKey} to {targetKey} reported success but the object is not there"));
            if (file.SizeBytes is { } size && info.Size != size)
                throw new VerificationException($"size mismatch: {files.ListingTable} says {size:N0} bytes, the copy has {info.Size:N0}");
            // A single-part ETag is the MD5; otherwise read the copy back (streamed) to hash it.
            var checksum = FileChecksum.FromETag(info.ETag) ?? (await HashAsync(target, targetKey, ct)).Checksum;
            if (expected is not null && checksum != expected)
                throw new VerificationException($"checksum mismatch: {files.ListingTable} says {expected}, the copy has {checksum}");
            return (info.Size, checksum);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Never leave a wrong object where the layout says the verified one lives.
            await target.DeleteAsync(targetKey, CancellationToken.None);
            throw;
        }
    }

    private async Task<(long Size, string Checksum)> CopyStreamedAsync(ListedFile file, string targetKey, string? expected, CancellationToken ct)
    {
        await using var input = await source.OpenReadAsync(file.SourceKey, ct);
        await using var upload = await Target(() => target.BeginUploadAsync(targetKey, ct));
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        long size = 0;
        try
        {
            while (true)
            {
                var n = await input.ReadAsync(buffer.AsMemory(0, BufferSize), ct);
                if (n == 0) break;
                md5.AppendData(buffer, 0, n);
                size += n;
                await Target(async () => { await upload.Stream.WriteAsync(buffer.AsMemory(0, n), ct); return true; });
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        var checksum = FileChecksum.Md5(md5.GetHashAndReset());
        // Checked before completing: a wrong object is discarded with the upload, never published.
        if (file.SizeBytes is { } expectedSize && size != expectedSize)
            throw new VerificationException($"size mismatch: {files.ListingTable} says {expectedSize:N0} bytes, the source object has {size:N0}");
        if (expected is not null && checksum != expected)
            throw new VerificationException($"checksum mismatch: {files.ListingTable} says {expected}, the source object has {checksum}");
        await Target(async () => { await upload.CompleteAsync(ct); return true; });
        return (size, checksum);
    }

    private static async Task<(long Size, string Checksum)> HashAsync(IObjectStore store, string key, CancellationToken ct)
    {
        await using var input = await store.OpenReadAsync(key, ct);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        long size = 0;
        try
        {
            int n;
            while ((n = await input.ReadAsync(buffer.AsMemory(0, BufferSize), ct)) > 0)
            {
                md5.AppendData(buffer, 0, n);
                size += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return (size, FileChecksum.Md5(md5.GetHashAndReset()));
    }

    /// <summary>Marks a failure of the target store, so that a target that fails every write stops the run instead of failing every file.</summary>
    private static async Task<T> Target<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (e is not (OperationCanceledException or ArgumentException or ObjectNotFoundException))
        {
            throw new TargetException(e);
        }
    }

    private sealed class VerificationException(string message) : Exception(message);

    private sealed class TargetException(Exception inner) : Exception(inner.Message, inner);
}
