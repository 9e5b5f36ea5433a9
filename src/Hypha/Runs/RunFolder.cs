using System.Text.RegularExpressions;

namespace Hypha.Runs;

/// <summary>
/// The layout of a run folder. Everything a later verb needs is inside it: config.json, dataset.json, inputs.json,
/// checkpoints/last.ckpt, metrics.csv, events/ (TensorBoard), plots/ and grids/.
/// </summary>
public sealed partial class RunFolder
{
    public string Root { get; }

    RunFolder(string root) => Root = Path.GetFullPath(root);

    public string ConfigPath => Path.Combine(Root, "config.json");
    public string DatasetPath => Path.Combine(Root, "dataset.json");
    /// <summary>What the run trained on (<see cref="InputManifest"/>).</summary>
    public string InputsPath => Path.Combine(Root, "inputs.json");
    public string CheckpointDir => Path.Combine(Root, "checkpoints");
    public string LastCheckpoint => Path.Combine(CheckpointDir, "last.ckpt");
    public string MetricsCsv => Path.Combine(Root, "metrics.csv");
    public string EventsDir => Path.Combine(Root, "events");
    public string PlotsDir => Path.Combine(Root, "plots");
    public string GridsDir => Path.Combine(Root, "grids");

    /// <summary>A new folder under <paramref name="parent"/>, named from a running number and the config, as stylegan2-ada does
    /// (e.g. <c>00003-resnet_vae-c224-l256-thesis</c>).</summary>
    public static RunFolder CreateUnder(string parent, RunConfig config)
    {
        Directory.CreateDirectory(parent);
        var next = Directory.EnumerateDirectories(parent)
            .Select(d => RunNumber().Match(Path.GetFileName(d)))
            .Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value)).DefaultIfEmpty(-1).Max() + 1;
        var tag = config.Model.Descriptor.FolderTag(config.Model);
        var name = $"{next:D5}-{config.Model.Kind}-c{config.Data.Chunk}{(tag.Length > 0 ? "-" + tag : "")}-{config.Preset}";
        return At(Path.Combine(parent, name));
    }

    /// <summary>The folder at <paramref name="path"/>, created if missing.</summary>
    public static RunFolder At(string path)
    {
        var run = new RunFolder(path) { CreatedRoot = !Directory.Exists(path) };
        try
        {
            foreach (var d in new[] { run.Root, run.CheckpointDir, run.EventsDir, run.PlotsDir, run.GridsDir }) Directory.CreateDirectory(d);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HyphaException(ExitCode.OutputError, $"cannot create the run folder: {e.Message}", path, e);
        }
        return run;
    }

    /// <summary>An existing run; fails with a clear message when <paramref name="path"/> is not one.</summary>
    public static RunFolder Open(string path)
    {
        if (!Directory.Exists(path)) throw new HyphaException(ExitCode.BadCheckpoint, "no such run folder", path);
        var run = new RunFolder(path);
        if (!File.Exists(run.ConfigPath)) throw new HyphaException(ExitCode.BadCheckpoint, "not a Hypha run folder (no config.json)", path);
        return run;
    }

    /// <summary>True when <see cref="At"/> created the folder (it did not exist before).</summary>
    public bool CreatedRoot { get; private init; }

    /// <summary>Deletes the folder if this process created it and it holds no files at all (only the empty subfolders <see cref="At"/> made).</summary>
    public void DeleteIfEmpty()
    {
        try
        {
            if (CreatedRoot && Directory.Exists(Root) && !Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories).Any())
                Directory.Delete(Root, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>Deletes the folder if this process created it and no checkpoint was written into it yet (a new run that
    /// failed, for example on an allocation, before its first checkpoint: nothing in it is worth keeping).</summary>
    public void DeleteIfNoCheckpoint()
    {
        try
        {
            if (CreatedRoot && Directory.Exists(Root) &&
                !(Directory.Exists(CheckpointDir) && Directory.EnumerateFiles(CheckpointDir, "*.ckpt").Any()))
                Directory.Delete(Root, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>Refuses (exit 3, listing added, removed and changed files) when <paramref name="images"/> no longer lists
    /// what inputs.json recorded; a run without inputs.json (made by an earlier Hypha) is not checked, and
    /// <paramref name="log"/> says so.</summary>
    public void VerifyInputs(IEnumerable<string> images, Action<string>? log = null)
    {
        var manifest = InputManifest.Read(InputsPath);
        if (manifest is null)
        {
            log?.Invoke($"{Root} has no inputs.json (an earlier Hypha made it): its images are not checked against what it was trained on");
            return;
        }
        manifest.Verify(images, Root);
    }

    /// <summary>The run's images read again as it was trained on them (<paramref name="config"/> is its stored one):
    /// refused when they changed (<see cref="VerifyInputs"/>), and the split taken as it was made (a split accepted at
    /// training is not refused for its shares now).</summary>
    public Data.PreparedData ReadData(RunConfig config, Action<string>? log = null)
    {
        VerifyInputs(config.Data.Images, log);
        return Data.DatasetBuilder.Build(config.Data with { AllowUnevenSplit = true }, config.Train.Seed, log);
    }

    public RunConfig ReadConfig() => ConfigJson.Deserialize(File.ReadAllText(ConfigPath), ConfigPath);

    public void WriteConfig(RunConfig config) => AtomicFile.WriteAllText(ConfigPath, ConfigJson.Serialize(config));

    [GeneratedRegex(@"^(\d{5})-")]
    private static partial Regex RunNumber();
}
