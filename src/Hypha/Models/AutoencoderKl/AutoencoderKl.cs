using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Models.AutoencoderKl;

/// <summary>
/// Latent diffusion's KL autoencoder (Rombach et al. 2022, "AutoencoderKL"; MONAI GenerativeModels' AutoencoderKL): a
/// Gaussian VAE whose latent keeps the image's layout, <see cref="VaeOptions.Latent"/> channels at side chunk / 4 with
/// the defaults. Trained with the VAEs' <see cref="VaeLoss"/> (latent diffusion's recipe is L1 + perceptual + a patch
/// discriminator with a KL weight of about 1e-6), it reconstructs fine structure that a 64-number latent cannot hold;
/// its samples come from a prior fitted afterwards (<c>hypha fit-prior</c>), since N(0, I) over thousands of numbers is
/// far from where the encoder puts the chunks. The latent is handed around flattened, [B, C x s x s], so the fitted
/// priors, IWAE, interpolation and tiled whole images take it as they take the other VAEs' vectors.
/// </summary>
public sealed class AutoencoderKl : VaeModel, IEncoderModel
{
    readonly KlEncoder encoder;
    readonly KlDecoder decoder;
    readonly VaeLoss _loss;
    readonly Tensor _lastLayer;
    readonly int _channels, _resolution;

    public AutoencoderKlOptions Options { get; }

    public AutoencoderKl(AutoencoderKlOptions options, int channels, int resolution) : base(nameof(AutoencoderKl))
    {
        options.Validate();
        options.ValidateShape(channels, resolution);
        Options = options;
        (_channels, _resolution) = (channels, resolution);
        encoder = new KlEncoder(options, channels);
        decoder = new KlDecoder(options, channels, resolution);
        RegisterComponents();
        _lastLayer = named_parameters().First(p => p.name == "decoder.conv_out.weight").parameter;
        _loss = new VaeLoss(options, channels, resolution);
    }

    public override string Kind => AutoencoderKlDescriptor.Key;
    public override int Channels => _channels;
    public override int Resolution => _resolution;
    public override int LatentSize => Options.LatentSize(_resolution);

    /// <summary>[latent channels, side, side].</summary>
    public IReadOnlyList<int> LatentShape => [Options.Latent, Options.LatentSide(_resolution), Options.LatentSide(_resolution)];

    public override (Tensor Mu, Tensor LogVar) Encode(Tensor x) => encoder.forward(x);

    public override Tensor Decode(Tensor z) => decoder.forward(z);

    public override LossTerms Loss(Tensor x, LossContext context) =>
        VaeLossOf(x, context, Options.BetaAt(context.ImagesSeen), 1, () => _lastLayer);

    protected override VaeLoss LossFunction => _loss;

    protected override long DecoderElements() => AutoencoderKlMemory.DecoderElements(Options, _channels, _resolution);
}
