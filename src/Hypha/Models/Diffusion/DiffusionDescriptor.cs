namespace Hypha.Models.Diffusion;

/// <summary>The <c>diffusion</c> family: a DDPM-style U-Net denoiser with v-prediction, a cosine schedule, EMA
/// weights and DDIM/DDPM sampling.</summary>
public sealed class DiffusionDescriptor : ModelDescriptor<DiffusionOptions>
{
    /// <summary>Registry name.</summary>
    public const string Key = "diffusion";

    public override string Name => Key;
    public override string Summary => "a denoising diffusion model (U-Net, v-prediction, cosine schedule, EMA, DDIM/DDPM sampling)";

    public override IReadOnlyList<ModelSetting> Settings { get; } =
    [
        ModelSetting.Of<DiffusionOptions, int>("width", "Base channels of the U-Net (level i has width x channel-mult[i]); even.", o => o.Width, (o, v) => o with { Width = v }),
        ModelSetting.Of<DiffusionOptions, int[]>("channel-mult", "Channel multiplier per U-Net level, e.g. 1,2,2,4; the chunk size must be a multiple of 2^(levels-1).",
            o => o.ChannelMult, (o, v) => o with { ChannelMult = v }),
        ModelSetting.Of<DiffusionOptions, int>("res-blocks", "Residual blocks per U-Net level (the up path has one more).", o => o.ResBlocks, (o, v) => o with { ResBlocks = v }),
        ModelSetting.Of<DiffusionOptions, int[]>("attention", "Feature-map sides with self-attention, e.g. 8 or 16,8 (the middle block always has it).",
            o => o.AttentionResolutions, (o, v) => o with { AttentionResolutions = v }),
        ModelSetting.Of<DiffusionOptions, double>("dropout", "Dropout inside the residual blocks.", o => o.Dropout, (o, v) => o with { Dropout = v }),
        ModelSetting.Of<DiffusionOptions, int>("timesteps", "Diffusion steps T of the noise schedule.", o => o.Timesteps, (o, v) => o with { Timesteps = v }),
        ModelSetting.Of<DiffusionOptions, ScheduleKind>("schedule", "Noise schedule: cosine or linear.", o => o.Schedule, (o, v) => o with { Schedule = v }),
        ModelSetting.Of<DiffusionOptions, PredictionKind>("prediction", "What the network predicts: v or epsilon.", o => o.Prediction, (o, v) => o with { Prediction = v }),
        ModelSetting.Of<DiffusionOptions, double>("ema-decay", "Decay of the EMA weights that sample (warm-up min(decay, (1+n)/(10+n))).", o => o.EmaDecay, (o, v) => o with { EmaDecay = v }),
        ModelSetting.Of<DiffusionOptions, int>("sample-steps", "Denoising steps when sampling, unless --steps says otherwise.", o => o.SampleSteps, (o, v) => o with { SampleSteps = v }),
        ModelSetting.Of<DiffusionOptions, double>("eta", "DDIM's eta: 0 deterministic, 1 as noisy as DDPM.", o => o.Eta, (o, v) => o with { Eta = v }),
    ];

    public override IReadOnlyList<LossTermInfo> Terms { get; } =
    [
        new("loss", "Denoising loss (MSE of the predicted v or noise)",
            "Mean squared error of the network's prediction at a random noise level, training and validation chunks, against training images seen (log scale). Lower is better; it falls slowly and stays well above 0, since at high noise the target cannot be predicted.",
            LogScale: true),
        new("x0_mse", "Clean-image error per pixel",
            "Mean squared error, on the 0-1 intensity scale, between a chunk and the model's one-step estimate of it from a noisy version, averaged over random noise levels (log scale). Lower is better; comparable across prediction types and schedules of the same T, unlike the loss.",
            LogScale: true),
    ];

    protected override IGenerativeModel Create(DiffusionOptions o, int channels, int resolution) => new DiffusionModel(o, channels, resolution);

    protected override void ValidateShape(DiffusionOptions o, int channels, int resolution) => o.Net(channels, resolution).Validate();

    protected override ModelMemory EstimateMemory(DiffusionOptions o, int channels, int resolution) => UNetMemory.Estimate(o.Net(channels, resolution));

    public override string Architecture(ModelOptions options) =>
        options is DiffusionOptions o
            ? $"width {o.Width}, channel mult {string.Join(",", o.ChannelMult)}, res blocks {o.ResBlocks}, attention {string.Join(",", o.AttentionResolutions)}, " +
              $"timesteps {o.Timesteps}, schedule {o.Schedule.ToString().ToLowerInvariant()}, prediction {o.Prediction.ToString().ToLowerInvariant()}"
            : base.Architecture(options);

    protected override string FolderTag(DiffusionOptions o) => $"w{o.Width}";

    /// <summary>Epoch previews with 25 DDIM steps instead of the run's 50: half the cost, and the grids still show how
    /// the samples form.</summary>
    public override SamplerSettings PreviewSettings => new() { Steps = 25 };

    public override OptimizerPreference Optimizer => OptimizerPreference.FlatAdam;

    public override bool ChannelsLastWeights => true;
}
