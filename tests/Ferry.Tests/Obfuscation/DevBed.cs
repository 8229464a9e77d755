using System.IO.Compression;
using System.Text;
using Ferry.Shared.Metadata;
using Ferry.Shared.Storage;
using Ferry.Tests.Stg;
using Ferry.Worker.Stg;

namespace Ferry.Tests.Obfuscation;

/// <summary>
/// Every test that reads FERRY_OBFUSCATION_KEY runs in this collection, one at a time, so a test that
/// unsets the key never races one that needs it.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ObfuscationKeyCollection : ICollectionFixture<ObfuscationKeyFixture>
{
    public const string Name = "obfuscation key";
}

/// <summary>Sets the test key for the collection.</summary>
public sealed class ObfuscationKeyFixture
{
    public const string TestKey = "test-obfuscation-key-not-a-real-secret";

    public ObfuscationKeyFixture() => Environment.SetEnvironmentVariable(ObfuscationPolicy.KeyVariable, TestKey);
}

/// <summary>The StgTestBed's databases with the object store's environment set to dev or prod.</summary>
public static class DevBed
{
    public static StgProcess ProcessIn(this StgTestBed bed, string env, params SourceTable[] tables)
    {
        var config = bed.StoreConfig with { Env = env };
        var metadata = bed.Metadata(tables) with { ObjectStore = config };
        return new StgProcess(metadata, ObjectStoreFactory.Create(config)) { FirstBackoff = TimeSpan.FromMilliseconds(50), MaxAttempts = 1 };
    }

    /// <summary>The text of every part file the environment's extracts wrote, gunzipped.</summary>
    public static async Task<string> PartsTextAsync(this StgTestBed bed, string env)
    {
        var folder = Path.Combine(bed.StoreRoot, bed.StoreConfig.Prefix, env);
        var text = new StringBuilder();
        foreach (var file in Directory.EnumerateFiles(folder, "*.csv.gz", SearchOption.AllDirectories).Order())
        {
            await using var gz = new GZipStream(File.OpenRead(file), CompressionMode.Decompress);
            using var reader = new StreamReader(gz, Encoding.UTF8);
            text.Append(await reader.ReadToEndAsync());
        }
        return text.ToString();
    }

    public static IReadOnlyDictionary<string, ObfuscationRule> Rules(params (string Column, ObfuscationKind Kind, string? Parameter)[] rules) =>
        rules.ToDictionary(r => r.Column, r => new ObfuscationRule(r.Kind, r.Parameter));
}
