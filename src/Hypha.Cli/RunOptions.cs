using System.CommandLine;
using System.Globalization;
using Hypha.Data;
using Hypha.Imaging;
using Hypha.Models;
using Hypha.Runs;
using Hypha.Training;

namespace Hypha.Cli;

/// <summary>
/// The options that shape a run's configuration. None has a parse-time default: an option left out keeps the
/// preset's value, and every description lists the presets' values, read from the presets themselves (so presets and
/// flags compose and the help never disagrees with them). Model settings come from the registered families'
/// descriptors (<see cref="ModelDescriptor.Settings"/>).
/// </summary>
public sealed class RunOptions
{
    public Option<string> Preset { get; } = new("--preset") { Description = $"Starting configuration: {Presets.Describe()}. Default: thesis for train, cpu for demo." };
    public Option<string[]> Images { get; } = new("--images") { Description = "Image folders (searched recursively), files or globs (PNG, JPEG, TIFF; 8/16-bit; multi-page).", AllowMultipleArgumentsPerToken = true };
    public Option<int?> Chunk { get; } = new("--chunk") { Description = $"Chunk side in pixels; the model says which sizes it takes (ResNet-18 VAE: a multiple of 32; proVAE: 7 x 2^k; diffusion: a multiple of its downsampling). {Defaults(c => c.Data.Chunk)}" };
    public Option<int?> Stride { get; } = new("--stride") { Description = $"Pixels between chunk origins, 1..chunk. {Defaults(c => c.Data.Stride)}" };
    public Option<double?> MinMean { get; } = new("--min-mean") { Description = $"Drop chunks whose mean is below this (black), in [0, 1]. {Defaults(c => c.Data.MinMean)}" };
    public Option<double?> MaxMean { get; } = new("--max-mean") { Description = $"Drop chunks whose mean is above this (background), in [0, 1]. {Defaults(c => c.Data.MaxMean)}" };
    public Option<NormalizeMode?> Normalize { get; } = EnumOption.Create<NormalizeMode>("--normalize", $"standardize: per-image z-score clipped to [-1, 1] then [0, 1] (thesis); percentile: per-image low..high percentile to [0, 1] (keeps dark roots). {Defaults(c => c.Data.Normalize)}");
    public Option<double?> PercentileLow { get; } = new("--percentile-low") { Description = $"Lower percentile for --normalize percentile. {Defaults(c => c.Data.PercentileLow)}" };
    public Option<double?> PercentileHigh { get; } = new("--percentile-high") { Description = $"Upper percentile for --normalize percentile. {Defaults(c => c.Data.PercentileHigh)}" };
    public Option<ChannelMode?> Channels { get; } = EnumOption.Create<ChannelMode>("--channels", $"gray: luminance (thesis); rgb: keep colour, the model takes and makes 3 channels. {Defaults(c => c.Data.Channels)}");
    public Option<string> Pages { get; } = new("--pages") { Description = $"Pages or focal planes of multi-page TIFFs: all, or a list such as 0,2,5-7. {Defaults(c => c.Data.Pages)}" };
    public Option<SplitMode?> Split { get; } = EnumOption.Create<SplitMode>("--split", $"auto: images with >= 5 source files, else regions; images: whole files per part; regions: disjoint bands of each image; chunks: random chunks as the thesis (overlapping chunks leak into the test part). {Defaults(c => c.Data.Split)}");
    public Option<double?> ValFraction { get; } = new("--val-fraction") { Description = $"Share for validation (of source files, a plane stack counting as one; of image length; or of chunks, by split). {Defaults(c => c.Data.ValFraction)}" };
    public Option<double?> TestFraction { get; } = new("--test-fraction") { Description = $"Share for test. {Defaults(c => c.Data.TestFraction)}" };
    public Option<int?> ValCount { get; } = new("--val-count") { Description = $"With --split chunks: exact validation chunks (thesis: 1000; 0: use the fraction). {Defaults(c => c.Data.ValCount)}" };
    public Option<int?> TestCount { get; } = new("--test-count") { Description = $"With --split chunks: exact test chunks (thesis: 1000; 0: use the fraction). {Defaults(c => c.Data.TestCount)}" };
    public Option<bool?> AllowUnevenSplit { get; } = new("--allow-uneven-split") { Description = $"Accept a validation or test part over twice its asked share (small images: each held-out band is at least a chunk wide; few files: each part holds at least one) instead of refusing it. {Defaults(c => c.Data.AllowUnevenSplit)}" };
    public Option<string> MemoryBudget { get; } = new("--memory-budget") { Description = $"Memory the images may take, checked from their headers before any pixel is read: a share of physical memory (50%), a size (8G, 512M; powers of 1024) or none. {Defaults(c => c.Data.MemoryBudget)}" };
    public Option<BadImagePolicy?> OnBadImage { get; } = EnumOption.Create<BadImagePolicy>("--on-bad-image", $"skip: leave unreadable files out and list them; fail: stop before any work. {Defaults(c => c.Data.OnBadImage)}");
    public Option<string> Model { get; } = new("--model")
    {
        Description = $"Model family: {string.Join("; ", ModelRegistry.All.Select(d => $"{d.Name}: {d.Summary}"))}. {Defaults(c => c.Model.Kind)}",
        HelpName = string.Join("|", ModelRegistry.All.Select(d => d.Name)),
    };
    public Option<int?> Epochs { get; } = new("--epochs") { Description = $"Epochs to train in all (with --resume: may be raised to train longer; proVAE: stages x --epochs-per-stage when left out). {Defaults(c => c.Train.Epochs)}" };
    public Option<int?> Batch { get; } = new("--batch") { Description = $"Chunks per step. {Defaults(c => c.Train.Batch)}" };
    public Option<double?> Lr { get; } = new("--lr") { Description = $"Adam learning rate. {Defaults(c => c.Train.Lr)}" };
    public Option<LrSchedule?> LrSchedule { get; } = EnumOption.Create<LrSchedule>("--lr-schedule", $"constant (thesis) or cosine decay to 0 over the run. {Defaults(c => c.Train.LrSchedule)}");
    public Option<Augment?> Augment { get; } = EnumOption.Create<Augment>("--augment", $"Label-preserving augmentation of training chunks: none; flips (left-right, up-down); dihedral (flips and 90-degree rotations). {Defaults(c => c.Train.Augment)}");
    public Option<long?> Seed { get; } = new("--seed") { Description = $"Seed for split, data order, initialization and sampling (any 64-bit integer). {Defaults(c => c.Train.Seed)}" };
    public Option<string> Device { get; } = new("--device") { Description = "auto, cpu, cuda or cuda:N. Default: auto (CUDA when available)." };
    public Option<int?> EpochSize { get; } = new("--epoch-size") { Description = $"Training chunks per epoch (0: all). {Defaults(c => c.Train.EpochSize)}" };
    public Option<int?> Threads { get; } = new("--threads") { Description = $"CPU threads for libtorch (0: all cores). {Defaults(c => c.Train.Threads)}" };
    public Option<double?> GradClip { get; } = new("--grad-clip") { Description = $"Clip the gradient norm (0: off). {Defaults(c => c.Train.GradClip)}" };
    public Option<int?> MaxBadSteps { get; } = new("--max-bad-steps") { Description = $"Stop after this many NaN/Inf losses in a row (each is skipped). {Defaults(c => c.Train.MaxBadSteps)}" };
    public Option<int?> CheckpointEvery { get; } = new("--checkpoint-every") { Description = $"Also checkpoint every N steps inside an epoch (0: epoch ends only). {Defaults(c => c.Train.CheckpointEvery)}" };
    public Option<Precision?> Precision { get; } = EnumOption.Create<Precision>("--precision", $"fp32, or bf16: convolutions in bfloat16 on fp32 master weights, normalization statistics and loss in fp32 (about 2x faster on GPUs and on CPUs with AVX-512 BF16). {Defaults(c => c.Train.Precision)}");
    public Option<Layout?> Layout { get; } = EnumOption.Create<Layout>("--layout", $"auto (channels-last on CUDA, channels-first on the CPU, where libtorch 2.10 gave wrong channels-last gradients on an AVX2-only CPU); nchw; nhwc (on the CPU only to compare speed). {Defaults(c => c.Train.Layout)}");
    public Option<double?> TimeLimit { get; } = new("--time-limit") { Description = $"Stop after this many minutes of training, with a checkpoint; continue later with --resume (0: no limit). {Defaults(c => c.Train.TimeLimit)}" };
    public Option<int?> LogEvery { get; } = new("--log-every") { Description = $"Write a metrics row every N steps. {Defaults(c => c.Train.LogEvery)}" };

    /// <summary>One option per model setting name over every registered family, with the families that take it.</summary>
    /// <summary>Read gives the option's text (null when not given).</summary>
    public IReadOnlyList<(Option Option, string Name, Func<ParseResult, string?> Read)> ModelSettings { get; }

    public RunOptions()
    {
        ModelSettings = ModelRegistry.All.SelectMany(d => d.Settings.Select(s => (Descriptor: d, Setting: s)))
            .GroupBy(p => p.Setting.Name)
            .Select(g =>
            {
                var first = g.First().Setting;
                // One text per distinct description, each with the families it describes.
                var texts = g.GroupBy(p => p.Setting.Description)
                    .Select(d => $"{d.Key} [{string.Join(", ", d.Select(p => p.Descriptor.Name))}]");
                var description = $"{string.Join(" ", texts)} {SettingDefaults(first.Name)}";
                if (first.ValueType == typeof(bool))
                {
                    // A flag: --name alone is true, --name false turns it off.
                    var flag = new Option<bool?>($"--{first.Name}") { Description = description };
                    return ((Option)flag, first.Name, (Func<ParseResult, string?>)(p => p.GetValue(flag) is { } b ? (b ? "true" : "false") : null));
                }
                var option = new Option<string>($"--{first.Name}") { Description = description, HelpName = HelpName(first.ValueType) };
                return ((Option)option, first.Name, p => p.GetValue(option));
            }).ToList();
    }

    public IEnumerable<Option> All => new Option[] { Preset, Images, Chunk, Stride, MinMean, MaxMean, Normalize, PercentileLow, PercentileHigh, Channels, Pages,
        Split, ValFraction, TestFraction, ValCount, TestCount, AllowUnevenSplit, MemoryBudget, OnBadImage, Model, Epochs, Batch, Lr, LrSchedule, Augment, Seed, Device,
        EpochSize, Threads, GradClip, MaxBadSteps, CheckpointEvery, Precision, Layout, LogEvery, TimeLimit }.Concat(ModelSettings.Select(m => m.Option));

    public void AddTo(Command command)
    {
        foreach (var o in All) command.Options.Add(o);
    }

    /// <summary>The preset named by --preset (or <paramref name="defaultPreset"/>) with every given option applied.</summary>
    public RunConfig Resolve(ParseResult p, string defaultPreset)
    {
        var c = Presets.Get(p.GetValue(Preset) ?? defaultPreset);
        var d = c.Data;
        var images = p.GetValue(Images);
        d = d with
        {
            Images = images is { Length: > 0 } ? images.Select(DataOptions.Absolute).ToArray() : d.Images, // absolute: config.json works from any folder
            Chunk = p.GetValue(Chunk) ?? d.Chunk,
            Stride = p.GetValue(Stride) ?? d.Stride,
            MinMean = p.GetValue(MinMean) ?? d.MinMean,
            MaxMean = p.GetValue(MaxMean) ?? d.MaxMean,
            Normalize = p.GetValue(Normalize) ?? d.Normalize,
            PercentileLow = p.GetValue(PercentileLow) ?? d.PercentileLow,
            PercentileHigh = p.GetValue(PercentileHigh) ?? d.PercentileHigh,
            Channels = p.GetValue(Channels) ?? d.Channels,
            Pages = p.GetValue(Pages) ?? d.Pages,
            Split = p.GetValue(Split) ?? d.Split,
            ValFraction = p.GetValue(ValFraction) ?? d.ValFraction,
            TestFraction = p.GetValue(TestFraction) ?? d.TestFraction,
            ValCount = p.GetValue(ValCount) ?? d.ValCount,
            TestCount = p.GetValue(TestCount) ?? d.TestCount,
            OnBadImage = p.GetValue(OnBadImage) ?? d.OnBadImage,
            AllowUnevenSplit = p.GetValue(AllowUnevenSplit) ?? d.AllowUnevenSplit,
            MemoryBudget = p.GetValue(MemoryBudget) ?? d.MemoryBudget,
        };
        var m = ResolveModel(p, c.Model);
        var t = c.Train with
        {
            // A progressive run's epochs follow from its stages unless given: stages x epochs per stage.
            Epochs = p.GetValue(Epochs) ?? m.Descriptor.EpochsFor(m, d.Chunk) ?? c.Train.Epochs,
            Batch = p.GetValue(Batch) ?? c.Train.Batch,
            Lr = p.GetValue(Lr) ?? c.Train.Lr,
            LrSchedule = p.GetValue(LrSchedule) ?? c.Train.LrSchedule,
            Augment = p.GetValue(Augment) ?? c.Train.Augment,
            Seed = p.GetValue(Seed) ?? c.Train.Seed,
            Device = p.GetValue(Device) ?? c.Train.Device,
            EpochSize = p.GetValue(EpochSize) ?? c.Train.EpochSize,
            Threads = p.GetValue(Threads) ?? c.Train.Threads,
            GradClip = p.GetValue(GradClip) ?? c.Train.GradClip,
            MaxBadSteps = p.GetValue(MaxBadSteps) ?? c.Train.MaxBadSteps,
            CheckpointEvery = p.GetValue(CheckpointEvery) ?? c.Train.CheckpointEvery,
            LogEvery = p.GetValue(LogEvery) ?? c.Train.LogEvery,
            TimeLimit = p.GetValue(TimeLimit) ?? c.Train.TimeLimit,
            Precision = p.GetValue(Precision) ?? c.Train.Precision,
            Layout = p.GetValue(Layout) ?? c.Train.Layout,
        };
        return (c with { Data = d, Model = m, Train = t }).Validated();
    }

    /// <summary>The preset's model options, switched to --model's family (keeping the settings both share) and with
    /// every given model setting applied; a setting the family does not take is refused, naming the family.</summary>
    ModelOptions ResolveModel(ParseResult p, ModelOptions preset)
    {
        var descriptor = p.GetValue(Model) is { } family ? ModelRegistry.Get(family) : preset.Descriptor;
        var options = descriptor.Adopt(preset);
        foreach (var (_, name, read) in ModelSettings)
        {
            if (read(p) is not { } text) continue;
            var setting = descriptor.Settings.FirstOrDefault(s => s.Name == name)
                ?? throw HyphaException.Config($"--{name} does not apply to --model {descriptor.Name} (it is a setting of {string.Join(", ", ModelRegistry.All.Where(d => d.Settings.Any(s => s.Name == name)).Select(d => d.Name))})");
            options = setting.Set(options, ParseSetting(name, text, setting.ValueType));
        }
        return options;
    }

    /// <summary>Parses a model setting's text; a one-line configuration error naming the option and what it takes.</summary>
    public static object ParseSetting(string name, string text, Type type)
    {
        var t = text.Trim();
        object? value = null;
        if (type == typeof(int) && int.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i)) value = i;
        else if (type == typeof(long) && long.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l)) value = l;
        else if (type == typeof(double) && double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && double.IsFinite(x)) value = x;
        else if (type == typeof(bool) && bool.TryParse(t, out var b)) value = b;
        else if (type == typeof(string)) value = t;
        else if (type.IsEnum)
            value = Enum.GetValues(type).Cast<Enum>().FirstOrDefault(v => string.Equals(EnumOption.Spell(v), t.Replace('-', '_'), StringComparison.OrdinalIgnoreCase));
        else if (type == typeof(int[]) || type == typeof(IReadOnlyList<int>))
        {
            var parts = t.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var ints = parts.Select(s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : (int?)null).ToList();
            if (parts.Length > 0 && ints.All(v => v is not null)) value = ints.Select(v => v!.Value).ToArray();
        }
        return value ?? throw HyphaException.Config($"--{name}: '{text}' is not {HelpName(type) switch
        {
            "int" => $"a whole number from {int.MinValue.ToString("N0", CultureInfo.InvariantCulture)} to {int.MaxValue.ToString("N0", CultureInfo.InvariantCulture)}",
            "long" => $"a whole number from {long.MinValue.ToString("N0", CultureInfo.InvariantCulture)} to {long.MaxValue.ToString("N0", CultureInfo.InvariantCulture)}",
            "number" => "a finite number",
            "true|false" => "true or false",
            "list" => "a comma-separated list of whole numbers (e.g. 1,2,2,4)",
            var names => $"one of {names.Replace("|", ", ")}",
        }}");
    }

    static string HelpName(Type type) =>
        type == typeof(int) ? "int" : type == typeof(long) ? "long" : type == typeof(double) ? "number" : type == typeof(bool) ? "true|false"
        : type.IsEnum ? string.Join("|", Enum.GetValues(type).Cast<Enum>().Select(EnumOption.Spell))
        : type == typeof(string) ? "text" : "list";

    /// <summary>"Default: 64 (thesis, provae), 16 (cpu)": the value of <paramref name="get"/> in every preset, grouped.</summary>
    static string Defaults(Func<RunConfig, object?> get) => Group(Presets.All.Select(kv => (kv.Key, get(kv.Value))));

    static string SettingDefaults(string name) => Group(Presets.All
        .Select(kv => (kv.Key, kv.Value.Model.Descriptor.Settings.FirstOrDefault(s => s.Name == name)?.Get(kv.Value.Model)))
        .Where(p => p.Item2 is not null));

    static string Group(IEnumerable<(string Preset, object? Value)> values)
    {
        var groups = values.GroupBy(v => Format(v.Value)).ToList();
        if (groups.Count == 0) return "";
        if (groups.Count == 1) return $"Default: {groups[0].Key}.";
        return "Default: " + string.Join(", ", groups.Select(g => $"{g.Key} ({string.Join(", ", g.Select(v => v.Preset))})")) + ".";
    }

    static string Format(object? v) => v switch
    {
        null => "-",
        Enum e => EnumOption.Spell(e),
        double d => d.ToString("G", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        System.Collections.IEnumerable list and not string => string.Join(",", list.Cast<object>().Select(Format)),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };
}
