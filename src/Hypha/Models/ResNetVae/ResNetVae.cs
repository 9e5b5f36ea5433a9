using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Models.ResNetVae;

/// <summary>The thesis's ResNet-18 VAE (section 3.3): <see cref="ResNetEncoder"/> and <see cref="ResNetDecoder"/>.
/// Parameter names are listed in docs/model-resnet-vae.md and match the PyTorch reference in bench/pytorch. Its loss
/// is <see cref="VaeLoss"/> with the settings' reconstruction, perceptual and adversarial options; a discriminator,
/// when there is one, is its <see cref="IAuxiliaryModel.Auxiliary"/> network and not part of the state dict.</summary>
public sealed class ResNetVae : VaeModel
{
    readonly ResNetEncoder encoder;
    readonly ResNetDecoder decoder;
    readonly VaeLoss _loss;
    readonly Tensor _lastLayer;

    public ResNetVaeOptions Options { get; }

    /// <summary>The loss settings (beta, KL warm-up); the default is a plain VAE (beta 1, no warm-up).</summary>
    public VaeOptions LossSettings { get; }

    public ResNetVae(ResNetVaeOptions options, VaeOptions? loss = null) : base(nameof(ResNetVae))
    {
        options.Validate();
        Options = options;
        LossSettings = loss ?? new VaeOptions { Width = options.Width, Latent = options.Latent };
        encoder = new ResNetEncoder(options);
        decoder = new ResNetDecoder(options);
        RegisterComponents();
        _lastLayer = named_parameters().First(p => p.name == "decoder.head.weight").parameter;
        _loss = new VaeLoss(LossSettings, options.Channels, options.Resolution);
    }

    public override string Kind => ResNetVaeDescriptor.Key;
    public override int Channels => Options.Channels;
    public override int Resolution => Options.Resolution;
    public override int LatentSize => Options.Latent;

    public override (Tensor Mu, Tensor LogVar) Encode(Tensor x) => encoder.forward(x);

    public override Tensor Decode(Tensor z) => decoder.forward(z);

    public override LossTerms Loss(Tensor x, LossContext context) =>
        VaeLossOf(x, context, LossSettings.BetaAt(context.ImagesSeen), 1, () => _lastLayer);

    protected override VaeLoss LossFunction => _loss;

    /// <summary>Float elements alive while <see cref="ResNetDecoder"/> decodes one latent, an estimate: its feature
    /// maps (side R/32 doubling to R, channels 8w halving to w, then the image) each twice over for the blocks' temporaries.</summary>
    protected override long DecoderElements()
    {
        long s = Options.Resolution / 32, w = Options.Width, c = Options.Channels;
        return 2 * s * s * (824 * w + 2048 * c);
    }
}

/// <summary>The <c>resnet_vae</c> family: the thesis's ResNet-18 VAE.</summary>
public sealed class ResNetVaeDescriptor : ModelDescriptor<VaeOptions>
{
    /// <summary>Registry name.</summary>
    public const string Key = "resnet_vae";

    public override string Name => Key;
    public override string Summary => "the thesis's ResNet-18 VAE (MSE + beta KL, N(0, I) prior)";
    public override IReadOnlyList<ModelSetting> Settings { get; } = VaeOptions.Settings<VaeOptions>();
    public override IReadOnlyList<LossTermInfo> Terms => VaeOptions.Terms;
    public override IReadOnlyList<LossTermInfo> TermsFor(ModelOptions options) => VaeOptions.TermsFor(options);

    protected override IGenerativeModel Create(VaeOptions o, int channels, int resolution) =>
        new ResNetVae(new ResNetVaeOptions(channels, resolution, o.Width, o.Latent), o);

    protected override void ValidateShape(VaeOptions o, int channels, int resolution)
    {
        new ResNetVaeOptions(channels, resolution, o.Width, o.Latent).Validate();
        o.ValidateLossShape(resolution);
    }

    protected override ModelMemory EstimateMemory(VaeOptions o, int channels, int resolution) =>
        ResNetVaeMemory.Estimate(channels, resolution, o.Width, o.Latent);

    public override string Architecture(ModelOptions options) =>
        options is VaeOptions o ? $"width {o.Width}, latent {o.Latent}" : base.Architecture(options);

    protected override string FolderTag(VaeOptions o) => $"l{o.Latent}";
}
