using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Ferry.Coordinator.Api;

/// <summary>
/// The bearer token of the coordinator's HTTP API. The coordinator takes it from $FERRY_API_TOKEN; without
/// it, from &lt;ferry home&gt;/api-token, which it creates (mode 0600, 256 random bits) on first start. The
/// CLI reads the same two places, so on the coordinator's machine `ferry status` just works, and elsewhere
/// the operator passes the token (--token or $FERRY_API_TOKEN). The value is never logged or printed:
/// <see cref="ToString"/> names where it came from, not what it is.
/// </summary>
public sealed class ApiToken
{
    public const string EnvironmentVariable = "FERRY_API_TOKEN";
    public const string HomeVariable = "FERRY_HOME";
    public const string FileName = "api-token";
    public const int MinimumLength = 16;

    private ApiToken(string value, string source)
    {
        Value = value;
        Source = source;
    }

    public string Value { get; }

    /// <summary>Where the token came from ($FERRY_API_TOKEN or a file path): safe to log.</summary>
    public string Source { get; }

    public override string ToString() => $"API token from {Source}";

    /// <summary>Ferry's home folder: $FERRY_HOME, else ./.ferry (where `ferry demo` and `ferry standalone` keep their state).</summary>
    public static string Home(string? given = null) =>
        Path.GetFullPath(given is { Length: > 0 } ? given
            : Environment.GetEnvironmentVariable(HomeVariable) is { Length: > 0 } env ? env
            : ".ferry");

    public static string FilePath(string home) => Path.Combine(home, FileName);

    /// <summary>
    /// The coordinator's token: $FERRY_API_TOKEN, else the token file under <paramref name="home"/>, created
    /// with a new random token if there is none. A token file that others can read is refused, not used.
    /// </summary>
    public static ApiToken ForCoordinator(string home) => ForCoordinator(home, Environment.GetEnvironmentVariable(EnvironmentVariable));

    /// <summary><see cref="ForCoordinator(string)"/> with the value of $FERRY_API_TOKEN given (tests).</summary>
    public static ApiToken ForCoordinator(string home, string? environmentValue)
    {
        if (FromEnvironment(environmentValue) is { } env) return env;
        var path = FilePath(home);
        if (!File.Exists(path)) TryCreate(home, path);
        return ReadFile(path, checkPermissions: true);
    }

    /// <summary>The CLI's token: --token, else $FERRY_API_TOKEN, else the token file under <paramref name="home"/>; null when there is none.</summary>
    public static ApiToken? ForClient(string? given, string home) => ForClient(given, home, Environment.GetEnvironmentVariable(EnvironmentVariable));

    public static ApiToken? ForClient(string? given, string home, string? environmentValue)
    {
        if (given is { Length: > 0 }) return new ApiToken(given.Trim(), "--token");
        if (FromEnvironment(environmentValue) is { } env) return env;
        var path = FilePath(home);
        return File.Exists(path) ? ReadFile(path, checkPermissions: false) : null;
    }

    /// <summary>
    /// Compares in constant time. Both sides are hashed first, so neither the content nor the length of the
    /// expected token leaks through how long a wrong guess takes.
    /// </summary>
    public static bool Matches(string expected, string? presented)
    {
        if (presented is null) return false;
        Span<byte> a = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> b = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(expected), a);
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), b);
        return CryptographicOperations.FixedTimeEquals(a, b);
    }

    /// <summary>256 random bits, URL-safe base64 (43 characters).</summary>
    public static string Generate() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    private static ApiToken? FromEnvironment(string? value)
    {
        value = value?.Trim();
        if (string.IsNullOrEmpty(value)) return null;
        if (value.Length < MinimumLength)
            throw new InvalidOperationException($"${EnvironmentVariable} is shorter than {MinimumLength} characters: use a random token (e.g. `openssl rand -base64 32`)");
        return new ApiToken(value, $"${EnvironmentVariable}");
    }

    private static void TryCreate(string home, string path)
    {
        if (!Directory.Exists(home))
        {
            if (OperatingSystem.IsWindows()) Directory.CreateDirectory(home);
            else Directory.CreateDirectory(home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        // Written aside, then moved into place: a reader never sees a half-written token, and when two
        // nodes on one machine start together the first move wins and the other uses its token.
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        File.Delete(temporary);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var file = new StreamWriter(temporary, Encoding.ASCII, options))
            file.Write(Generate() + "\n");
        try { File.Move(temporary, path, overwrite: false); }
        catch (IOException) when (File.Exists(path)) { File.Delete(temporary); }
    }

    private static ApiToken ReadFile(string path, bool checkPermissions)
    {
        if (checkPermissions && !OperatingSystem.IsWindows())
        {
            var loose = File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite);
            if (loose != 0)
                throw new InvalidOperationException($"{path} can be read or written by other users; restrict it with `chmod 600 {path}` (or delete it to get a new token)");
        }
        var value = File.ReadAllText(path).Trim();
        if (value.Length < MinimumLength)
            throw new InvalidOperationException($"{path} holds no usable API token (shorter than {MinimumLength} characters); delete it to get a new one");
        return new ApiToken(value, path);
    }
}
