using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Hypha.Models;

namespace Hypha.Runs;

/// <summary>JSON round trip of configurations (snake_case keys, enum names as strings), as pythae keeps configs beside
/// weights. A model's options are written as <c>{"kind": NAME, ...its family's fields}</c> and read back into the
/// record of the family that <c>kind</c> names (<see cref="ModelRegistry"/>).</summary>
public static class ConfigJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower), new ModelOptionsConverter() },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public static string Serialize(RunConfig config) => JsonSerializer.Serialize(config, Options);

    /// <summary>A model's options as one line of JSON (with its kind).</summary>
    public static string SerializeModel(ModelOptions options) =>
        JsonSerializer.Serialize(options, new JsonSerializerOptions(Options) { WriteIndented = false });

    public static RunConfig Deserialize(string json, string? path = null)
    {
        RunConfig? config;
        try
        {
            var node = JsonNode.Parse(json) as JsonObject ?? throw new JsonException("the configuration is not a JSON object");
            var format = node["format"]?.GetValue<int>() ?? 1;
            if (format > RunConfig.CurrentFormat)
                throw new HyphaException(ExitCode.BadCheckpoint,
                    $"the configuration has format {format}, newer than this Hypha understands ({RunConfig.CurrentFormat}); update Hypha", path);
            if (format < 2) Migrate1To2(node);
            if (format < 3) Migrate2To3(node);
            config = node.Deserialize<RunConfig>(Options);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new HyphaException(ExitCode.BadCheckpoint, $"the configuration is not valid: {e.Message}", path, e);
        }
        catch (HyphaException e) when (e.Code == ExitCode.InvalidConfig)
        {
            throw new HyphaException(ExitCode.BadCheckpoint, $"the configuration is not valid: {e.Message}", path, e);
        }
        if (config is null) throw new HyphaException(ExitCode.BadCheckpoint, "the configuration is empty", path);
        return config;
    }

    /// <summary>Format 1 (Hypha before the model registry) kept the VAE's beta and KL warm-up under <c>train</c>; they
    /// are model settings now.</summary>
    static void Migrate1To2(JsonObject root)
    {
        root["format"] = 2;
        if (root["train"] is not JsonObject train || root["model"] is not JsonObject model) return;
        foreach (var key in new[] { "beta", "kl_warmup" })
        {
            if (train[key] is not { } value) continue;
            train.Remove(key);
            model[key] = value.DeepClone();
        }
    }

    /// <summary>Format 2 and older: their runs were split before plane stacks were recognised; reading them with
    /// stacks on would give another split than the one they were trained with.</summary>
    static void Migrate2To3(JsonObject root)
    {
        root["format"] = 3;
        if (root["data"] is JsonObject data && data["plane_stacks"] is null) data["plane_stacks"] = false;
    }

    /// <summary>Reads and writes <see cref="ModelOptions"/> by its <c>kind</c>.</summary>
    sealed class ModelOptionsConverter : JsonConverter<ModelOptions>
    {
        public override bool CanConvert(Type typeToConvert) => typeToConvert == typeof(ModelOptions);

        public override ModelOptions Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var node = JsonNode.Parse(ref reader) as JsonObject ?? throw new JsonException("model options must be a JSON object");
            // Hypha before the registry wrote "kind" always; a missing one is the thesis's model.
            var kind = node["kind"]?.GetValue<string>() ?? Models.ResNetVae.ResNetVaeDescriptor.Key;
            var descriptor = ModelRegistry.Find(kind) ?? throw new JsonException(
                $"unknown model kind '{kind}' (known: {string.Join(", ", ModelRegistry.All.Select(d => d.Name))})");
            node.Remove("kind");
            return (ModelOptions)(node.Deserialize(descriptor.OptionsType, options) ?? throw new JsonException("empty model options"));
        }

        public override void Write(Utf8JsonWriter writer, ModelOptions value, JsonSerializerOptions options)
        {
            var node = JsonSerializer.SerializeToNode(value, value.GetType(), options) as JsonObject ?? new JsonObject();
            var result = new JsonObject { ["kind"] = value.Kind };
            foreach (var (k, v) in node.ToList())
            {
                node.Remove(k);
                result[k] = v;
            }
            result.WriteTo(writer, options);
        }
    }
}
