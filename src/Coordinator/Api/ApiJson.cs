using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ferry.Coordinator.Api;

/// <summary>How the API writes and reads JSON: camelCase names, enums as camelCase strings ("incremental", "succeeded").</summary>
public static class ApiJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
