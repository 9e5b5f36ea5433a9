using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Models.ResNetVae;

/// <summary>The thesis's ResNet-18 VAE (section 3.3): <see cref="ResNetEncoder"/> and <see cref="ResNetDecoder"/>.
/// Parameter names are listed in docs/model-resnet-vae.md and match the PyTorch reference in bench/pytorch.</summary>
public sealed class ResNetVae : nn.Module, IVaeModel
{
    readonly ResNetEncoder encoder;
    readonly ResNetDecoder decoder;

    public ResNetVaeOptions Options { get; }

    public ResNetVae(ResNetVaeOptions options) : base(nameof(ResNetVae))
    {
        options.Validate();
        Options = options;
        encoder = new ResNetEncoder(options);
        decoder = new ResNetDecoder(options);
        RegisterComponents();
    }

    public int Channels => Options.Channels;
    public int Resolution => Options.Resolution;
    public int LatentSize => Options.Latent;
    public nn.Module Module => this;

    public (Tensor Mu, Tensor LogVar) Encode(Tensor x) => encoder.forward(x);

    public Tensor Decode(Tensor z) => decoder.forward(z);

    public VaeOutput Forward(Tensor x)
    {
        var (mu, logVar) = Encode(x);
        var z = VaeMath.Reparameterize(mu, logVar);
        return new VaeOutput(Decode(z), mu, logVar, z);
    }

    public LossTerms Loss(Tensor x, VaeOutput output, double beta) => VaeMath.Loss(x, output, beta);
}
