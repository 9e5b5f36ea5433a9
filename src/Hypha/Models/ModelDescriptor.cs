namespace Hypha.Models;

/// <summary>Which optimizer a family trains with.</summary>
public enum OptimizerPreference
{
    /// <summary><see cref="Training.FlatAdam"/>: one flat buffer, one step count; right when every parameter gets a
    /// gradient every step.</summary>
    FlatAdam,

    /// <summary>TorchSharp's Adam with a step count per parameter, for models whose parameters join training one by one
    /// (the progressive VAE's growing blocks).</summary>
    PerParameterAdam,
}

/// <summary>One reported loss term: its name (the metrics.csv column) and how to show it.</summary>
/// <param name="Name">Column name, snake_case, e.g. <c>kl</c>.</param>
/// <param name="Title">Plot title and report heading.</param>
/// <param name="Description">One or two sentences for the report: what it is, which way is better.</param>
/// <param name="LogScale">Plot on a log axis (positive terms spanning decades).</param>
/// <param name="Plot">Draw a curve of it (<see cref="PlotFile"/> in plots/).</param>
/// <param name="PlotName">File name of the curve without .png; default <paramref name="Name"/>.</param>
public sealed record LossTermInfo(string Name, string Title, string Description, bool LogScale = false, bool Plot = true, string? PlotName = null)
{
    /// <summary>The curve's file name in the run's plots/ folder.</summary>
    public string PlotFile => (PlotName ?? Name) + ".png";
}

/// <summary>A setting of a family's options record that the command line can set (<c>--NAME</c>).</summary>
/// <param name="Name">Option name without dashes, e.g. <c>width</c>.</param>
/// <param name="Description">Help text without the default (the command line adds the defaults of the presets).</param>
/// <param name="ValueType">int, long, double, bool, string, int[] or an enum.</param>
/// <param name="Get">Reads the value from an options record of the family.</param>
/// <param name="Set">Returns a copy of an options record of the family with the value set.</param>
public sealed record ModelSetting(string Name, string Description, Type ValueType,
    Func<ModelOptions, object?> Get, Func<ModelOptions, object, ModelOptions> Set)
{
    /// <summary>A typed setting of options record <typeparamref name="TOptions"/>.</summary>
    public static ModelSetting Of<TOptions, TValue>(string name, string description, Func<TOptions, TValue> get,
        Func<TOptions, TValue, TOptions> set) where TOptions : ModelOptions =>
        new(name, description, typeof(TValue), o => get((TOptions)o), (o, v) => set((TOptions)o, (TValue)v));
}

/// <summary>
/// Everything Hypha knows about one model family, in one place: its name, options record (with its JSON round trip),
/// factory, shape check, command-line settings, reported loss terms, and optimizer and layout preferences. Adding a
/// family is a folder under Models/ and one <see cref="ModelRegistry.Register"/> line.
/// </summary>
public abstract class ModelDescriptor
{
    /// <summary>Registry name, also <c>--model NAME</c> and <c>"kind"</c> in config.json, e.g. <c>resnet_vae</c>.</summary>
    public abstract string Name { get; }

    /// <summary>One line for <c>--model</c>'s help.</summary>
    public abstract string Summary { get; }

    /// <summary>The family's options record type (a <see cref="ModelOptions"/>).</summary>
    public abstract Type OptionsType { get; }

    /// <summary>The options a new record of the family starts from.</summary>
    public abstract ModelOptions Defaults { get; }

    /// <summary>Settings the command line exposes.</summary>
    public virtual IReadOnlyList<ModelSetting> Settings => [];

    /// <summary>Every term <see cref="IGenerativeModel.Loss"/> can report, in column order.</summary>
    public abstract IReadOnlyList<LossTermInfo> Terms { get; }

    /// <summary>The terms a model with <paramref name="options"/> reports, in column order (metrics.csv columns, curves,
    /// the report): a VAE reports its perceptual and adversarial terms only when it has them. Default <see cref="Terms"/>.</summary>
    public virtual IReadOnlyList<LossTermInfo> TermsFor(ModelOptions options) => Terms;

    /// <summary>Builds a model for images of <paramref name="channels"/> channels and side <paramref name="resolution"/>.</summary>
    public abstract IGenerativeModel Create(ModelOptions options, int channels, int resolution);

    /// <summary>Checks, without building anything, that the model can take this chunk size; throws a configuration
    /// error that says which sizes it can take.</summary>
    public abstract void ValidateShape(ModelOptions options, int channels, int resolution);

    /// <summary>The memory a model of these options needs (parameters exactly; training activations per image as an
    /// estimate), computed from the options without building anything, so that a model that cannot fit on the device
    /// is refused before libtorch allocates it (<see cref="Training.MemoryCheck"/>). Every family provides one.</summary>
    public abstract ModelMemory EstimateMemory(ModelOptions options, int channels, int resolution);

    /// <summary>The settings a checkpoint's weights depend on, as text (two options records with the same text load
    /// each other's weights); also in error messages. Default: every setting.</summary>
    public virtual string Architecture(ModelOptions options) => Runs.ConfigJson.SerializeModel(options);

    /// <summary>The part of a run folder's name after the chunk size, e.g. <c>l256</c>; default empty.</summary>
    public virtual string FolderTag(ModelOptions options) => "";

    /// <summary>Sampler settings for the previews training draws after every epoch (grids/samples.png); default the
    /// model's own. A family whose sampling is slow (many denoising steps) may preview with fewer.</summary>
    public virtual SamplerSettings PreviewSettings => new();

    /// <summary>Whether decoding N(0, I) (<c>--sampler prior</c>) gives samples of a model of this family, when it has an
    /// encoder; default true. False for a family trained with so small a KL weight that its posteriors ignore N(0, I)
    /// (<c>autoencoder_kl</c>, the first stage of latent diffusion): its samples come from a prior fitted to its latents
    /// (<c>Hypha.Sampling.Priors.FittedPriors.DefaultSampler</c>), and training draws no sample previews. Known from the
    /// run's config alone, so that commands can refuse before reading images (<see cref="IEncoderModel.SamplesFromPrior"/>
    /// is this, per model).</summary>
    public virtual bool SamplesFromPrior => true;

    /// <summary>Default <see cref="OptimizerPreference.FlatAdam"/>.</summary>
    public virtual OptimizerPreference Optimizer => OptimizerPreference.FlatAdam;

    /// <summary>Store 4-d weights channels-last when the run's layout is channels-last; default true.</summary>
    public virtual bool ChannelsLastWeights => true;

    /// <summary>Epochs a run needs when <c>--epochs</c> is not given and the family decides (a progressive model's
    /// stages x epochs per stage); null (default) keeps the preset's.</summary>
    public virtual int? EpochsFor(ModelOptions options, int chunk) => null;

    /// <summary>Options of another family carried over when <c>--model</c> switches a preset's family: the settings
    /// both share by name keep the preset's values. Default: this family's defaults with the shared settings copied.</summary>
    public ModelOptions Adopt(ModelOptions from)
    {
        if (from.GetType() == OptionsType) return from;
        var fromDescriptor = ModelRegistry.Get(from.Kind);
        var result = Defaults;
        foreach (var s in Settings)
        {
            var match = fromDescriptor.Settings.FirstOrDefault(o => o.Name == s.Name && o.ValueType == s.ValueType);
            if (match?.Get(from) is { } value) result = s.Set(result, value);
        }
        return result;
    }
}

/// <summary>A descriptor of a family whose options record is <typeparamref name="TOptions"/>.</summary>
public abstract class ModelDescriptor<TOptions> : ModelDescriptor where TOptions : ModelOptions, new()
{
    public override Type OptionsType => typeof(TOptions);
    public override ModelOptions Defaults => new TOptions();

    public sealed override IGenerativeModel Create(ModelOptions options, int channels, int resolution)
    {
        var o = Cast(options);
        o.Validate();
        ValidateShape(o, channels, resolution);
        return Create(o, channels, resolution);
    }

    public sealed override void ValidateShape(ModelOptions options, int channels, int resolution) =>
        ValidateShape(Cast(options), channels, resolution);

    public sealed override ModelMemory EstimateMemory(ModelOptions options, int channels, int resolution) =>
        EstimateMemory(Cast(options), channels, resolution);

    public sealed override string FolderTag(ModelOptions options) => FolderTag(Cast(options));

    public sealed override int? EpochsFor(ModelOptions options, int chunk) => EpochsFor(Cast(options), chunk);

    /// <inheritdoc cref="ModelDescriptor.Create"/>
    protected abstract IGenerativeModel Create(TOptions options, int channels, int resolution);

    /// <inheritdoc cref="ModelDescriptor.ValidateShape"/>
    protected abstract void ValidateShape(TOptions options, int channels, int resolution);

    /// <inheritdoc cref="ModelDescriptor.EstimateMemory"/>
    protected abstract ModelMemory EstimateMemory(TOptions options, int channels, int resolution);

    /// <inheritdoc cref="ModelDescriptor.FolderTag"/>
    protected virtual string FolderTag(TOptions options) => "";

    /// <inheritdoc cref="ModelDescriptor.EpochsFor"/>
    protected virtual int? EpochsFor(TOptions options, int chunk) => null;

    TOptions Cast(ModelOptions options) => options as TOptions
        ?? throw HyphaException.Config($"the {Name} model was given {options.Kind} options");
}
