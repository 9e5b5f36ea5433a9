namespace Hypha.Models.ProgressiveVae;

/// <summary>Settings of the <c>provae</c> family: the VAE settings plus the growth settings, kept in config.json as
/// <c>progressive</c>.</summary>
public sealed record ProVaeOptions : VaeOptions
{
    /// <summary>Growth settings; default <see cref="ProgressiveOptions"/>'s.</summary>
    public ProgressiveOptions Progressive { get; init; } = new();

    public override void Validate()
    {
        base.Validate();
        Progressive.Validate();
    }
}

/// <summary>The <c>provae</c> family: the thesis's progressive VAE (section 3.4).</summary>
public sealed class ProgressiveVaeDescriptor : ModelDescriptor<ProVaeOptions>
{
    /// <summary>Registry name.</summary>
    public const string Key = "provae";

    public override string Name => Key;
    public override string Summary => "the thesis's progressive VAE: the ResNet-18 VAE grown from 7x7 to the chunk size";

    public override IReadOnlyList<ModelSetting> Settings { get; } =
    [
        .. VaeOptions.Settings<ProVaeOptions>(),
        ModelSetting.Of<ProVaeOptions, int>("epochs-per-stage", "Epochs at each resolution (7, 14, ... up to the chunk); without --epochs, the run trains stages x this.",
            o => o.Progressive.EpochsPerStage, (o, v) => o with { Progressive = o.Progressive with { EpochsPerStage = v } }),
        ModelSetting.Of<ProVaeOptions, long>("fade-images", "Training images over which a new block fades in (alpha 0 to 1); 0: half a stage.",
            o => o.Progressive.FadeImages, (o, v) => o with { Progressive = o.Progressive with { FadeImages = v } }),
        ModelSetting.Of<ProVaeOptions, bool>("equalized-lr", "Scale weights at run time by He's constant (true/false).",
            o => o.Progressive.EqualizedLr, (o, v) => o with { Progressive = o.Progressive with { EqualizedLr = v } }),
        ModelSetting.Of<ProVaeOptions, bool>("pixel-norm", "Pixel normalization instead of batch norm (true/false).",
            o => o.Progressive.PixelNorm, (o, v) => o with { Progressive = o.Progressive with { PixelNorm = v } }),
        ModelSetting.Of<ProVaeOptions, bool>("minibatch-std", "Minibatch standard deviation channel before the encoder's last block (true/false).",
            o => o.Progressive.MinibatchStd, (o, v) => o with { Progressive = o.Progressive with { MinibatchStd = v } }),
        ModelSetting.Of<ProVaeOptions, bool>("scale-reconstruction", "Weight each stage's reconstruction sum by (chunk / resolution)^2, so early stages balance it against KL as the last does (true/false).",
            o => o.Progressive.ScaleReconstruction, (o, v) => o with { Progressive = o.Progressive with { ScaleReconstruction = v } }),
    ];

    public override IReadOnlyList<LossTermInfo> Terms => VaeOptions.Terms;
    public override IReadOnlyList<LossTermInfo> TermsFor(ModelOptions options) => VaeOptions.TermsFor(options);
    public override OptimizerPreference Optimizer => OptimizerPreference.PerParameterAdam;

    // Its equalized layers rescale the weights on every call, and TorchSharp's Adam, which it trains with, cannot save
    // channels-last state.
    public override bool ChannelsLastWeights => false;

    protected override IGenerativeModel Create(ProVaeOptions o, int channels, int resolution) =>
        new ProgressiveVae(new ProgressiveVaeOptions(channels, resolution, o.Width, o.Latent, o.Progressive), o);

    protected override void ValidateShape(ProVaeOptions o, int channels, int resolution)
    {
        new ProgressiveVaeOptions(channels, resolution, o.Width, o.Latent, o.Progressive).Validate();
        o.ValidateLossShape(resolution);
    }

    protected override ModelMemory EstimateMemory(ProVaeOptions o, int channels, int resolution) =>
        ProgressiveVaeMemory.Estimate(new ProgressiveVaeOptions(channels, resolution, o.Width, o.Latent, o.Progressive));

    public override string Architecture(ModelOptions options) =>
        options is ProVaeOptions o ? $"width {o.Width}, latent {o.Latent}, start {o.Progressive.StartResolution}, " +
                                     $"{(o.Progressive.PixelNorm ? "pixel norm" : "batch norm")}, equalized lr {o.Progressive.EqualizedLr}, minibatch std {o.Progressive.MinibatchStd}"
            : base.Architecture(options);

    protected override string FolderTag(ProVaeOptions o) => $"l{o.Latent}";

    protected override int? EpochsFor(ProVaeOptions o, int chunk) => o.Progressive.TotalEpochs(chunk);
}
