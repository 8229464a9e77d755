namespace Ferry.Shared.Storage;

/// <summary>
/// The write-only, forward-only stream an <see cref="IObjectUpload"/> hands out. Disposing it only
/// ends writing; it never publishes the object. That lets callers wrap it in a stream that closes
/// its inner stream (<c>new GZipStream(upload.Stream, …)</c> disposed before
/// <see cref="IObjectUpload.CompleteAsync"/>) without publishing a half-written object by accident.
/// </summary>
internal abstract class UploadStream : Stream
{
    private long _written;
    private bool _closed;

    public sealed override bool CanRead => false;
    public sealed override bool CanSeek => false;
    public sealed override bool CanWrite => !_closed;
    public sealed override long Length => _written;

    /// <summary>Bytes written so far (readable so that wrappers can report progress; not settable).</summary>
    public sealed override long Position
    {
        get => _written;
        set => throw new NotSupportedException("an object upload is written sequentially");
    }

    protected abstract void WriteCore(ReadOnlySpan<byte> buffer);
    protected abstract ValueTask WriteCoreAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct);

    public sealed override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        Write(buffer.AsSpan(offset, count));
    }

    public sealed override void Write(ReadOnlySpan<byte> buffer)
    {
        EnsureOpen();
        if (buffer.IsEmpty) return;
        WriteCore(buffer);
        _written += buffer.Length;
    }

    public sealed override void WriteByte(byte value) => Write([value]);

    public sealed override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct)
    {
        ValidateBufferArguments(buffer, offset, count);
        return WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();
    }

    public sealed override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
    {
        EnsureOpen();
        if (buffer.IsEmpty) return;
        await WriteCoreAsync(buffer, ct).ConfigureAwait(false);
        _written += buffer.Length;
    }

    /// <summary>Nothing to do: data is durable only once the upload completes.</summary>
    public override void Flush() { }

    public override Task FlushAsync(CancellationToken ct) => Task.CompletedTask;

    public sealed override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("an object upload is write-only");
    public sealed override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("an object upload is written sequentially");
    public sealed override void SetLength(long value) => throw new NotSupportedException("an object upload is written sequentially");

    protected override void Dispose(bool disposing)
    {
        _closed = true;
        base.Dispose(disposing);
    }

    private void EnsureOpen() => ObjectDisposedException.ThrowIf(_closed, this);
}
