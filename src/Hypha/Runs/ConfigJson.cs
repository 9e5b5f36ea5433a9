using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hypha.Runs;

/// <summary>JSON round trip of configurations (snake_case keys, enum names as strings), as pythae keeps configs beside weights.</summary>
public static class ConfigJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public static string Serialize(RunConfig config) => JsonSerializer.Serialize(config, Options);

    public static RunConfig Deserialize(string json, string? path = null)
    {
        RunConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<RunConfig>(json, Options);
        }
        catch (JsonException e)
        {
            throw new HyphaException(ExitCode.BadCheckpoint, $"the configuration is not valid: {e.Message}", path, e);
        }
        if (config is null) throw new HyphaException(ExitCode.BadCheckpoint, "the configuration is empty", path);
        if (config.Format > RunConfig.CurrentFormat)
            throw new HyphaException(ExitCode.BadCheckpoint,
                $"the configuration has format {config.Format}, newer than this Hypha understands ({RunConfig.CurrentFormat}); update Hypha", path);
        return config;
    }
}
