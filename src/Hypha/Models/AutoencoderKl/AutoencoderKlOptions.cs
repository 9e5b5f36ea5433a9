namespace Hypha.Models.AutoencoderKl;

/// <summary>
/// Settings of the <c>autoencoder_kl</c> family: latent diffusion's KL autoencoder, a VAE whose latent is a small image
/// (<see cref="VaeOptions.Latent"/> channels at side chunk / 2^(levels - 1)) instead of a vector. It shares every loss
/// setting of the VAEs (<see cref="VaeOptions"/>: L1, perceptual, patch discriminator, beta); only the network differs.
/// Defaults: width 16, multipliers 1,2,4 (a 64 chunk gives a 4 x 16 x 16 latent, latent diffusion's f = 4), one block
/// per level. <see cref="VaeOptions.Latent"/> is the latent's channel count here (<c>--latent-channels</c>).
/// </summary>
public sealed record AutoencoderKlOptions : VaeOptions
{
    /// <summary>The VAE settings at this family's defaults: width 16, 4 latent channels.</summary>
    public AutoencoderKlOptions()
    {
        Width = 16;
        Latent = 4;
    }

    /// <summary>Channel multipliers per level (width x m); the side halves between levels. Default 1,2,4.</summary>
    public int[] ChannelMult { get; init; } = [1, 2, 4];

    /// <summary>Residual blocks per level in the encoder (the decoder has one more, as latent diffusion's). Default 1.</summary>
    public int ResBlocks { get; init; } = 1;

    /// <summary>The chunk side divided by the downsampling factor 2^(levels - 1): the latent's side.</summary>
    public int LatentSide(int resolution) => resolution >> (ChannelMult.Length - 1);

    /// <summary>Numbers in a latent: channels x side^2.</summary>
    public int LatentSize(int resolution) => Latent * LatentSide(resolution) * LatentSide(resolution);

    public override void Validate()
    {
        base.Validate();
        if (ChannelMult is null || ChannelMult.Length is < 1 or > 6 || ChannelMult.Any(m => m < 1))
            throw HyphaException.Config($"channel multipliers must be one to six integers of at least 1 (got {string.Join(",", ChannelMult ?? [])})");
        if (ResBlocks < 1) throw HyphaException.Config($"residual blocks per level must be at least 1 (got {ResBlocks})");
    }

    /// <summary>Checks that <paramref name="resolution"/> halves exactly down to the latent side.</summary>
    public void ValidateShape(int channels, int resolution)
    {
        var factor = 1 << (ChannelMult.Length - 1);
        if (resolution < factor || resolution % factor != 0)
            throw HyphaException.Config(
                $"chunk size {resolution} cannot be taken by an autoencoder of {ChannelMult.Length} levels: it needs a multiple of {factor} (or fewer --channel-mult entries)");
        if (channels is not (1 or 3)) throw HyphaException.Config($"channels must be 1 or 3 (got {channels})");
        ValidateLossShape(resolution);
    }

    public bool Equals(AutoencoderKlOptions? other) =>
        other is not null && base.Equals(other) && ChannelMult.SequenceEqual(other.ChannelMult) && ResBlocks == other.ResBlocks;

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(base.GetHashCode());
        foreach (var m in ChannelMult) h.Add(m);
        h.Add(ResBlocks);
        return h.ToHashCode();
    }
}

/// <summary>The <c>autoencoder_kl</c> family: <see cref="AutoencoderKl"/>.</summary>
public sealed class AutoencoderKlDescriptor : ModelDescriptor<AutoencoderKlOptions>
{
    /// <summary>Registry name.</summary>
    public const string Key = "autoencoder_kl";

    public override string Name => Key;
    public override string Summary => "latent diffusion's KL autoencoder: a VAE with a spatial latent (channels x side/4 x side/4 by default)";

    public override IReadOnlyList<ModelSetting> Settings { get; } =
    [
        // --latent-channels, not --latent: a preset of another family switched to this one with --model must not hand
        // its latent size over as a channel count (ModelDescriptor.Adopt copies settings that share a name).
        .. VaeOptions.Settings<AutoencoderKlOptions>().Select(s => s.Name != "latent" ? s
            : ModelSetting.Of<AutoencoderKlOptions, int>("latent-channels", "Latent channels at each latent position (the latent is channels x side^2 numbers).",
                o => o.Latent, (o, v) => o with { Latent = v })),
        ModelSetting.Of<AutoencoderKlOptions, int[]>("channel-mult", "Channel multipliers per level; the side halves between levels (1,2,4: latent side = chunk / 4).",
            o => o.ChannelMult, (o, v) => o with { ChannelMult = v }),
        ModelSetting.Of<AutoencoderKlOptions, int>("res-blocks", "Residual blocks per level in the encoder (the decoder has one more).",
            o => o.ResBlocks, (o, v) => o with { ResBlocks = v }),
    ];

    public override IReadOnlyList<LossTermInfo> Terms => VaeOptions.Terms;
    public override IReadOnlyList<LossTermInfo> TermsFor(ModelOptions options) => VaeOptions.TermsFor(options);

    /// <summary>False: the family is latent diffusion's first stage, whose samples come from a second model on its latents;
    /// with the KL weight it is trained with (1e-4 in autoencoder-kl-cpu) the latents are nowhere near N(0, I), which
    /// decodes to noise-like texture (FD 433 on amf_ink_roots against 167 with the fitted U-Net prior,
    /// docs/evaluation-amf.md).</summary>
    public override bool SamplesFromPrior => false;

    protected override IGenerativeModel Create(AutoencoderKlOptions o, int channels, int resolution) => new AutoencoderKl(o, channels, resolution);

    protected override void ValidateShape(AutoencoderKlOptions o, int channels, int resolution) => o.ValidateShape(channels, resolution);

    protected override ModelMemory EstimateMemory(AutoencoderKlOptions o, int channels, int resolution) =>
        AutoencoderKlMemory.Estimate(o, channels, resolution);

    public override string Architecture(ModelOptions options) =>
        options is AutoencoderKlOptions o
            ? $"width {o.Width}, multipliers {string.Join(",", o.ChannelMult)}, {o.ResBlocks} blocks, latent {o.Latent} channels"
            : base.Architecture(options);

    protected override string FolderTag(AutoencoderKlOptions o) => $"c{o.Latent}f{1 << (o.ChannelMult.Length - 1)}";
}
