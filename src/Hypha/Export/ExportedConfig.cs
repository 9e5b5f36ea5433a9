using System.Text.Json;
using System.Text.Json.Nodes;
using Hypha.Models;
using Hypha.Runs;

namespace Hypha.Export;

/// <summary>
/// What an exported weights file holds and how to build the network it fits, written as JSON (snake_case, as
/// config.json) beside the file (<c>NAME.json</c> for <c>NAME.safetensors</c>) and, the same text, in the file's
/// safetensors metadata under <c>hypha</c>, so the file alone is enough to import it. A file made elsewhere (PyTorch)
/// needs only <see cref="Model"/>, <see cref="Channels"/> and <see cref="Resolution"/>:
/// <c>{"model": {"kind": "diffusion", "width": 16}, "channels": 1, "resolution": 64}</c>.
/// </summary>
public sealed record ExportedConfig
{
    /// <summary>The current <see cref="Format"/>.</summary>
    public const int CurrentFormat = 1;

    /// <summary>Version of this layout; default (and current) 1. A newer one is refused.</summary>
    public int Format { get; init; } = CurrentFormat;

    /// <summary>The family's settings, <c>{"kind": NAME, ...fields}</c> as in config.json; fields left out take the
    /// family's defaults.</summary>
    public required ModelOptions Model { get; init; }

    /// <summary>Image channels the network takes and makes: 1 (gray) or 3 (rgb).</summary>
    public int Channels { get; init; } = 1;

    /// <summary>Side of the square images in pixels (the chunk size).</summary>
    public required int Resolution { get; init; }

    /// <summary>Which weights the file holds (e.g. a diffusion model's EMA weights); informative.</summary>
    public string Weights { get; init; } = "";

    /// <summary>The run's whole configuration (data preparation, training), when the file came from a Hypha run;
    /// an import writes it as the new run's config.json.</summary>
    public RunConfig? Run { get; init; }

    /// <summary>Where the weights came from, when exported from a Hypha run.</summary>
    public ExportSource? Source { get; init; }

    /// <summary>As JSON, indented (<paramref name="indented"/>) or on one line (for metadata).</summary>
    public string ToJson(bool indented = true) =>
        JsonSerializer.Serialize(this, new JsonSerializerOptions(ConfigJson.Options) { WriteIndented = indented, Encoder = Readable });

    /// <summary>Escapes only what JSON requires (quotes, backslashes, control characters), so the text reads as written.</summary>
    internal static System.Text.Encodings.Web.JavaScriptEncoder Readable => System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    /// <summary>
    /// Reads <paramref name="json"/>: this record's layout, or a run folder's config.json (then channels and resolution
    /// come from its data settings). A configuration error names <paramref name="source"/> (exit 4).
    /// </summary>
    public static ExportedConfig Parse(string json, string source)
    {
        try
        {
            var node = JsonNode.Parse(json) as JsonObject ?? throw new JsonException("it is not a JSON object");
            if (node["resolution"] is null && node["data"] is not null)
            {
                var run = ConfigJson.Deserialize(json, source);
                return new ExportedConfig
                {
                    Model = run.Model, Channels = Imaging.ChannelModeExtensions.Count(run.Data.Channels), Resolution = run.Data.Chunk, Run = run,
                };
            }
            var format = node["format"]?.GetValue<int>() ?? CurrentFormat;
            if (format > CurrentFormat)
                throw new HyphaException(ExitCode.BadCheckpoint, $"the model configuration has format {format}, newer than this Hypha understands ({CurrentFormat}); update Hypha", source);
            var config = node.Deserialize<ExportedConfig>(ConfigJson.Options) ?? throw new JsonException("it is empty");
            if (config.Channels is not (1 or 3)) throw new JsonException($"channels must be 1 (gray) or 3 (rgb), not {config.Channels}");
            if (config.Resolution < 1) throw new JsonException($"resolution must be a positive number of pixels, not {config.Resolution}");
            return config;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new HyphaException(ExitCode.BadCheckpoint, $"the model configuration is not valid: {e.Message}", source, e);
        }
        catch (HyphaException e) when (e.Code == ExitCode.InvalidConfig)
        {
            throw new HyphaException(ExitCode.BadCheckpoint, $"the model configuration is not valid: {e.Message}", source, e);
        }
    }
}

/// <summary>The run and checkpoint an export was made from.</summary>
/// <param name="Run">The run folder (full path).</param>
/// <param name="CheckpointSha256">SHA-256 of the run's checkpoints/last.ckpt, in hex.</param>
/// <param name="Epoch">Epochs finished (the checkpoint's position).</param>
/// <param name="GlobalStep">Optimizer steps taken.</param>
/// <param name="ImagesSeen">Training images shown.</param>
/// <param name="Complete">Whether training had finished all its epochs.</param>
/// <param name="CheckpointWrittenUtc">When the checkpoint was written.</param>
/// <param name="ExportedUtc">When the export was made.</param>
/// <param name="Hypha">Version of the Hypha library that exported it.</param>
public sealed record ExportSource(string Run, string CheckpointSha256, int Epoch, long GlobalStep, long ImagesSeen, bool Complete,
    DateTime CheckpointWrittenUtc, DateTime ExportedUtc, string Hypha);
