using System.Security.Cryptography;
using System.Text.Json;
using Hypha.Models;
using Hypha.Runs;
using Hypha.Training;
using static TorchSharp.torch;

namespace Hypha.Export;

/// <summary>What <see cref="ModelExport.Export"/> wrote.</summary>
/// <param name="File">The safetensors file (full path).</param>
/// <param name="ConfigFile">The JSON beside it (full path).</param>
/// <param name="Tensors">Tensors written.</param>
/// <param name="Values">Values in them (parameters and buffers).</param>
/// <param name="Weights">Which weights, as a phrase.</param>
/// <param name="Config">The configuration written.</param>
public sealed record ExportResult(string File, string ConfigFile, int Tensors, long Values, string Weights, ExportedConfig Config);

/// <summary>What <see cref="ModelExport.Import"/> made.</summary>
/// <param name="Run">The new run folder.</param>
/// <param name="Config">Its configuration.</param>
/// <param name="Tensors">Tensors read.</param>
/// <param name="ConfigSource">Where the model configuration came from (the file's metadata, the JSON beside it, or --config).</param>
public sealed record ImportResult(RunFolder Run, RunConfig Config, int Tensors, string ConfigSource);

/// <summary>
/// <c>hypha export</c> and <c>hypha import</c>: a trained run's weights (<see cref="ModelWeights"/>: a diffusion
/// model's EMA U-Net, a VAE's whole network) to a safetensors file with PyTorch names and the model's configuration
/// (<see cref="ExportedConfig"/>) beside it and in its metadata; and such a file back into a run folder that
/// <c>sample</c> (and, with the source images, <c>reconstruct</c> and <c>evaluate</c>) can use. Everything is checked
/// before anything is written, files are written atomically, and existing files are replaced only when asked.
/// </summary>
public static class ModelExport
{
    /// <summary>The safetensors metadata key that holds the <see cref="ExportedConfig"/> JSON.</summary>
    public const string MetadataKey = "hypha";

    /// <summary>The imported run's record of where its weights came from.</summary>
    public const string ImportRecord = "imported.json";

    /// <summary>The configuration file written beside <paramref name="file"/>: the same name ending in <c>.json</c>.</summary>
    public static string ConfigPathFor(string file) => Path.ChangeExtension(Path.GetFullPath(file), ".json");

    /// <summary>
    /// Writes the trained weights of <paramref name="runFolder"/>'s last checkpoint to <paramref name="file"/>
    /// (safetensors) and its configuration to <see cref="ConfigPathFor"/>. Refuses existing files unless
    /// <paramref name="overwrite"/> (default false). <paramref name="format"/>: default (and only)
    /// <see cref="WeightsFormat.Safetensors"/>.
    /// </summary>
    public static ExportResult Export(string runFolder, string file, bool overwrite = false, WeightsFormat format = WeightsFormat.Safetensors)
    {
        if (format != WeightsFormat.Safetensors) throw HyphaException.Config($"--format {format} is not a weights format Hypha writes (safetensors)");
        var run = RunFolder.Open(runFolder);
        var path = Path.GetFullPath(file);
        var configPath = ConfigPathFor(path);
        if (configPath == path)
            throw HyphaException.Config($"--out {file}: the configuration is written beside the weights as NAME.json; name the weights file NAME.safetensors");
        foreach (var p in new[] { path, configPath })
        {
            if (Directory.Exists(p)) throw new HyphaException(ExitCode.OutputError, "is a folder; --out names the weights file to write", p);
            if (File.Exists(p) && !overwrite) throw new HyphaException(ExitCode.OutputError, "already exists; choose another name or pass --overwrite", p);
        }
        var folder = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(folder)) throw new HyphaException(ExitCode.OutputError, "no such folder", folder);

        var header = Checkpoint.ReadHeader(run.LastCheckpoint);
        var sha = Sha256(run.LastCheckpoint);
        var (config, model, _) = TrainingSession.LoadModel(run, "cpu");
        using var owned = model;
        var tensors = ModelWeights.Tensors(model);
        var exported = new ExportedConfig
        {
            Model = config.Model,
            Channels = Imaging.ChannelModeExtensions.Count(config.Data.Channels),
            Resolution = config.Data.Chunk,
            Weights = ModelWeights.Describe(model),
            Run = config,
            Source = new ExportSource(run.Root, sha, header.Epoch, header.GlobalStep, header.ImagesSeen, header.Complete,
                header.WrittenUtc, DateTime.UtcNow, Version),
        };
        var metadata = new Dictionary<string, string> { ["format"] = "pt", [MetadataKey] = exported.ToJson(indented: false) };
        var existed = File.Exists(path);
        AtomicFile.Write(path, s => SafetensorsFile.Write(s, tensors, metadata));
        try
        {
            AtomicFile.WriteAllText(configPath, exported.ToJson() + "\n");
        }
        catch when (!existed)
        {
            TryDelete(path); // no weights without the configuration that says what they are
            throw;
        }
        return new ExportResult(path, configPath, tensors.Count, tensors.Sum(t => t.Tensor.numel()), exported.Weights, exported);
    }

    /// <summary>
    /// Makes the run folder <paramref name="runFolder"/> from the safetensors <paramref name="file"/>: config.json,
    /// checkpoints/last.ckpt (weights only: it samples, but training cannot resume from it) and imported.json. The model
    /// configuration is <paramref name="configFile"/> when given (an export's JSON or a run's config.json), else the
    /// file's metadata, else the JSON beside it. The weights must fit that model exactly (names, shapes); the first
    /// mismatch is named. The folder must be new or empty; <paramref name="overwrite"/> (default false) replaces an
    /// earlier import, never a trained run.
    /// </summary>
    public static ImportResult Import(string file, string runFolder, string? configFile = null, bool overwrite = false)
    {
        var path = Path.GetFullPath(file);
        using var content = SafetensorsFile.Read(path);
        var (exported, source) = ResolveConfig(path, content.Metadata, configFile);
        var config = RunConfigOf(exported, source);
        var channels = exported.Channels;
        CheckTarget(runFolder, overwrite); // before the work of building and loading the model

        var model = config.Model.Descriptor.Create(config.Model, channels, exported.Resolution);
        using var owned = model;
        try
        {
            ModelWeights.Load(model, content.Tensors);
        }
        catch (InvalidDataException e)
        {
            throw new HyphaException(ExitCode.BadCheckpoint,
                $"does not fit the {config.Model.Kind} model ({config.Model.Descriptor.Architecture(config.Model)}, {channels}-channel {exported.Resolution}x{exported.Resolution}) that {source} describes: {e.Message}", path, e);
        }

        var existed = Directory.Exists(runFolder);
        using var hold = RunLock.ForOutput(runFolder); // one writer per folder
        CheckTarget(runFolder, overwrite);             // again, now that no other hypha process can write into it
        var run = RunFolder.At(runFolder);
        try
        {
            run.WriteConfig(config);
            var from = exported.Source;
            Checkpoint.Save(run.LastCheckpoint,
                new CheckpointHeader(Checkpoint.CurrentFormat, config.Model, channels, exported.Resolution, from?.Epoch ?? 0, 0,
                    from?.GlobalStep ?? 0, from?.ImagesSeen ?? 0, 0, Complete: true, DateTime.UtcNow),
                model, optimizer: null);
            TryDelete(CheckpointSections.PreviousOf(run.LastCheckpoint)); // an earlier import's weights, not a step back of these
            var record = new ImportRecordJson(path, Sha256(path), source, exported.Weights, DateTime.UtcNow, Version);
            AtomicFile.WriteAllText(Path.Combine(run.Root, ImportRecord), JsonSerializer.Serialize(record, new JsonSerializerOptions(ConfigJson.Options) { Encoder = ExportedConfig.Readable }) + "\n");
        }
        catch
        {
            if (!existed) TryDeleteEmptyTree(run.Root); // a failed import leaves no folder behind
            throw;
        }
        return new ImportResult(run, config, content.Tensors.Count, source);
    }

    /// <summary>imported.json: the file, its hash, where its configuration came from.</summary>
    sealed record ImportRecordJson(string File, string Sha256, string Config, string Weights, DateTime ImportedUtc, string Hypha);

    static (ExportedConfig Config, string Source) ResolveConfig(string file, IReadOnlyDictionary<string, string> metadata, string? configFile)
    {
        if (configFile is not null)
        {
            if (!File.Exists(configFile)) throw new HyphaException(ExitCode.BadCheckpoint, "no such file (--config)", configFile);
            return (ExportedConfig.Parse(File.ReadAllText(configFile), configFile), configFile);
        }
        if (metadata.TryGetValue(MetadataKey, out var json))
        {
            var source = $"{file} (metadata)";
            return (ExportedConfig.Parse(json, source), source);
        }
        var beside = ConfigPathFor(file);
        if (File.Exists(beside)) return (ExportedConfig.Parse(File.ReadAllText(beside), beside), beside);
        throw new HyphaException(ExitCode.BadCheckpoint,
            $"says nothing about the model it holds (no '{MetadataKey}' metadata and no {Path.GetFileName(beside)} beside it); " +
            "pass --config with its JSON, e.g. {\"model\": {\"kind\": \"diffusion\", \"width\": 16}, \"channels\": 1, \"resolution\": 64}", file);
    }

    /// <summary>The new run's config.json: the exporting run's, or one made from the model alone (preset "imported",
    /// default data and training settings at the model's size). It must describe the same model.</summary>
    static RunConfig RunConfigOf(ExportedConfig exported, string source)
    {
        var mode = exported.Channels == 1 ? Imaging.ChannelMode.Gray : Imaging.ChannelMode.Rgb;
        // The device is the importing machine's choice: a run trained with --device cuda samples on a CPU-only one too.
        var run = exported.Run is { } r ? r with { Train = r.Train with { Device = "auto" } } : new RunConfig
        {
            Preset = "imported",
            Data = new Data.DataOptions { Chunk = exported.Resolution, Stride = Math.Min(16, exported.Resolution), Channels = mode },
            Model = exported.Model,
        };
        if (ConfigJson.SerializeModel(run.Model) != ConfigJson.SerializeModel(exported.Model) || run.Data.Chunk != exported.Resolution || run.Data.Channels != mode)
            throw new HyphaException(ExitCode.BadCheckpoint, "the model configuration is not valid: its run settings describe another model or image size than its model, channels and resolution", source);
        try
        {
            return run.Validated();
        }
        catch (HyphaException e) when (e.Code == ExitCode.InvalidConfig)
        {
            throw new HyphaException(ExitCode.BadCheckpoint, $"the model configuration is not valid: {e.Message}", source, e);
        }
    }

    /// <summary>The import's folder: new, empty, or (with overwrite) an earlier import.</summary>
    static void CheckTarget(string folder, bool overwrite)
    {
        if (File.Exists(folder)) throw new HyphaException(ExitCode.OutputError, "is a file, not a folder", folder);
        if (!Directory.Exists(folder) || !Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Any()) return;
        var imported = File.Exists(Path.Combine(folder, ImportRecord));
        if (!overwrite)
            throw new HyphaException(ExitCode.OutputError, imported
                ? "already holds an imported model; pass --overwrite to replace it or choose another folder"
                : "already holds files; import into a new or empty folder", folder);
        if (!imported)
            throw new HyphaException(ExitCode.OutputError, File.Exists(Path.Combine(folder, "checkpoints", "last.ckpt"))
                ? "holds a trained run, which --overwrite never replaces; import into a new or empty folder"
                : "already holds files that are not an earlier import; import into a new or empty folder", folder);
    }

    /// <summary>SHA-256 of a file, lower-case hex.</summary>
    public static string Sha256(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Convert.ToHexStringLower(SHA256.HashData(fs));
    }

    /// <summary>The library's version (informational version without build metadata).</summary>
    public static string Version { get; } =
        (typeof(ModelExport).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "?").Split('+')[0];

    static void TryDeleteEmptyTree(string folder)
    {
        try
        {
            if (Directory.Exists(folder) && !Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Any()) Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
