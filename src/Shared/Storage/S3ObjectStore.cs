using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using System.Net;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Ferry.Shared.Storage;

/// <summary>
/// Objects in an S3-compatible bucket under a key prefix. Written for OCI Object Storage's Amazon S3
/// Compatibility API (path-style URLs, a customer secret key, signing region = the OCI region) and
/// equally valid against Amazon S3. Uploads stream through bounded part buffers (<see cref="S3Upload"/>);
/// reads stream the GetObject response body.
/// </summary>
public sealed class S3ObjectStore : IObjectStore, IServerSideCopy, IDisposable
{
    private readonly AmazonS3Client _s3;
    private readonly S3ObjectStoreOptions _options;
    private readonly string _keyPrefix; // "" or "prefix/"
    private readonly ImmutableCredentials _credentials; // compared, never shown
    private readonly ILogger _log;

    /// <param name="log">Where the store's warnings go (the node's logging); none when null.</param>
    public S3ObjectStore(S3ObjectStoreOptions options, ILogger? log = null)
    {
        _log = log ?? NullLogger.Instance;
        options.Validate();
        _options = options;
        var prefix = ObjectKey.NormalizeStorePrefix(options.Prefix);
        _keyPrefix = prefix.Length == 0 ? "" : prefix + "/";
        var config = new AmazonS3Config
        {
            ServiceURL = options.Endpoint,
            AuthenticationRegion = options.Region,
            // OCI (and most S3-compatible services) serve buckets by path, not by virtual host.
            ForcePathStyle = true,
            // The SDK's newer default adds CRC checksum headers/trailers that S3-compatible services
            // often reject; send and verify checksums only where the API requires them.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        // Resolved from the environment now; SecretRef's messages name the variable, never its value.
        var credentials = new BasicAWSCredentials(options.AccessKey.Resolve(), options.SecretKey.Resolve());
        _credentials = credentials.GetCredentials();
        _s3 = new AmazonS3Client(credentials, config);
        _s3.BeforeRequestEvent += KeepCopySourceSlashes;
    }

    public S3ObjectStoreOptions Options => _options;

    public string Describe() => $"s3 {_options.Endpoint.TrimEnd('/')}/{_options.Bucket}/{_keyPrefix.TrimEnd('/')} (region {_options.Region})";

    public Task<IObjectUpload> BeginUploadAsync(string key, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        // Nothing is sent yet: a small object becomes one PutObject on completion; a multipart upload
        // is initiated only when the first part is full.
        return Task.FromResult<IObjectUpload>(new S3Upload(_s3, _options, ObjectKey.Validate(key), FullKey(key), Describe(), _log));
    }

    public async Task<Stream> OpenReadAsync(string key, CancellationToken ct = default)
    {
        var fullKey = FullKey(key);
        GetObjectResponse response;
        try
        {
            response = await _s3.GetObjectAsync(new GetObjectRequest { BucketName = _options.Bucket, Key = fullKey }, ct).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchKey" || (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode != "NoSuchBucket"))
        {
            throw new ObjectNotFoundException(key, Describe(), e);
        }
        catch (AmazonServiceException e)
        {
            throw Failure("read", key, e);
        }
        return new S3ReadStream(response);
    }

    public async Task<ObjectInfo?> StatAsync(string key, CancellationToken ct = default)
    {
        var fullKey = FullKey(key);
        try
        {
            var m = await _s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _options.Bucket, Key = fullKey }, ct).ConfigureAwait(false);
            return new ObjectInfo(key, m.ContentLength, Unquote(m.ETag), AsUtc(m.LastModified));
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            // HEAD responses carry no error body, so a missing bucket looks the same; the next write says so.
            return null;
        }
        catch (AmazonServiceException e)
        {
            throw Failure("stat", key, e);
        }
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ObjectKey.ValidatePrefix(prefix);
        var request = new ListObjectsV2Request
        {
            BucketName = _options.Bucket,
            Prefix = _keyPrefix + prefix,
            MaxKeys = _options.ListPageSize,
        };
        while (true)
        {
            ListObjectsV2Response page;
            try
            {
                page = await _s3.ListObjectsV2Async(request, ct).ConfigureAwait(false);
            }
            catch (AmazonServiceException e)
            {
                throw Failure("list", prefix + "*", e);
            }
            // SDK v4 leaves empty collections null.
            foreach (var o in page.S3Objects ?? [])
                yield return new ObjectInfo(o.Key[_keyPrefix.Length..], o.Size ?? 0, Unquote(o.ETag), AsUtc(o.LastModified));
            if (page.IsTruncated != true) yield break;
            if (string.IsNullOrEmpty(page.NextContinuationToken))
                throw new IOException($"{Describe()}: list {prefix}*: the server reported more results but sent no continuation token");
            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    public async Task DeleteAsync(string key, CancellationToken ct = default)
    {
        var fullKey = FullKey(key);
        try
        {
            // S3 deletes are idempotent: deleting an absent object succeeds.
            await _s3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _options.Bucket, Key = fullKey }, ct).ConfigureAwait(false);
        }
        catch (AmazonServiceException e)
        {
            throw Failure("delete", key, e);
        }
    }

    /// <summary>S3's limit for a single CopyObject.</summary>
    public long MaxServerSideCopyBytes => 5L * 1024 * 1024 * 1024;

    public bool CanCopyFrom(IObjectStore source) =>
        source is S3ObjectStore s
        && string.Equals(s._options.Endpoint.TrimEnd('/'), _options.Endpoint.TrimEnd('/'), StringComparison.OrdinalIgnoreCase)
        && s._options.Region == _options.Region
        && s._credentials.AccessKey == _credentials.AccessKey
        && s._credentials.SecretKey == _credentials.SecretKey;

    public async Task<string?> CopyFromAsync(IObjectStore source, string sourceKey, string key, CancellationToken ct = default)
    {
        if (source is not S3ObjectStore s || !CanCopyFrom(source))
            throw new InvalidOperationException($"{Describe()}: cannot copy server-side from {source.Describe()} (another endpoint or other credentials)");
        var request = new CopyObjectRequest
        {
            SourceBucket = s._options.Bucket,
            SourceKey = s.FullKey(sourceKey),
            DestinationBucket = _options.Bucket,
            DestinationKey = FullKey(key),
        };
        try
        {
            var response = await _s3.CopyObjectAsync(request, ct).ConfigureAwait(false);
            return response.ETag;
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchKey" || (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode != "NoSuchBucket"))
        {
            throw new ObjectNotFoundException(sourceKey, s.Describe(), e);
        }
        catch (AmazonServiceException e)
        {
            throw new IOException($"{Describe()}: copy {s.Describe()} {sourceKey} to {key} failed: {Explain(e)}", e);
        }
    }

    public void Dispose() => _s3.Dispose();

    /// <summary>
    /// SDK v4 sends CopyObject's source as <c>bucket%2Fkey%2Fpath</c>. S3 and OCI decode it either way, but some
    /// S3-compatible servers (s3rver among them) split bucket from key before decoding %2F; a plain '/' suits all.
    /// Runs before signing, so the signature covers the header as sent.
    /// </summary>
    private static void KeepCopySourceSlashes(object sender, RequestEventArgs e)
    {
        const string header = "x-amz-copy-source";
        if (e is WebServiceRequestEventArgs w && w.Headers.TryGetValue(header, out var value) && value.Contains("%2F", StringComparison.OrdinalIgnoreCase))
            w.Headers[header] = value.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
    }

    private string FullKey(string key) => _keyPrefix + ObjectKey.Validate(key);

    private IOException Failure(string operation, string key, AmazonServiceException e) =>
        new($"{Describe()}: {operation} {key} failed: {Explain(e)}", e);

    /// <summary>HTTP status, S3 error code and message: what the server said, never what we signed with.</summary>
    internal static string Explain(AmazonServiceException e) =>
        $"{(int)e.StatusCode} {e.ErrorCode ?? e.StatusCode.ToString()}: {e.Message}";

    /// <summary>S3 sends ETags quoted (<c>"9b2cf5…"</c>); callers compare bare values.</summary>
    internal static string? Unquote(string? etag) => etag?.Trim('"');

    private static DateTimeOffset? AsUtc(DateTime? t) => t is { } v ? new DateTimeOffset(v.ToUniversalTime(), TimeSpan.Zero) : null;

    /// <summary>The GetObject body; disposing it disposes the response (and so the HTTP connection's lease).</summary>
    private sealed class S3ReadStream(GetObjectResponse response) : Stream
    {
        private readonly Stream _body = response.ResponseStream;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => response.ContentLength;
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _body.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => _body.Read(buffer);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => _body.ReadAsync(buffer, offset, count, ct);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => _body.ReadAsync(buffer, ct);

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) response.Dispose();
            base.Dispose(disposing);
        }
    }
}
