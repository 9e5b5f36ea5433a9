using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Models.ResNetVae;

/// <summary>The thesis's ResNet-18 VAE (section 3.3): <see cref="ResNetEncoder"/> and <see cref="ResNetDecoder"/>.
/// Parameter names are listed in docs/model-resnet-vae.md and match the PyTorch reference in bench/pytorch.</summary>
public sealed class ResNetVae : nn.Module, ILikelihoodModel
{
    readonly ResNetEncoder encoder;
    readonly ResNetDecoder decoder;

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
    }

    public string Kind => ResNetVaeDescriptor.Key;
    public int Channels => Options.Channels;
    public int Resolution => Options.Resolution;
    public int LatentSize => Options.Latent;
    public nn.Module Module => this;

    public (Tensor Mu, Tensor LogVar) Encode(Tensor x) => encoder.forward(x);

    public Tensor Decode(Tensor z) => decoder.forward(z);

    public LossTerms Loss(Tensor x, LossContext context) => VaeMath.Loss(this, x, context, LossSettings.BetaAt(context.ImagesSeen));

    public Tensor Sample(SampleRequest request) => VaeMath.SamplePrior(this, request);

    public string DescribeSampler(SamplerSettings settings) => VaeMath.DescribePrior(this, settings);
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

    protected override IGenerativeModel Create(VaeOptions o, int channels, int resolution) =>
        new ResNetVae(new ResNetVaeOptions(channels, resolution, o.Width, o.Latent), o);

    protected override void ValidateShape(VaeOptions o, int channels, int resolution) =>
        new ResNetVaeOptions(channels, resolution, o.Width, o.Latent).Validate();

    public override string Architecture(ModelOptions options) =>
        options is VaeOptions o ? $"width {o.Width}, latent {o.Latent}" : base.Architecture(options);

    protected override string FolderTag(VaeOptions o) => $"l{o.Latent}";
}
