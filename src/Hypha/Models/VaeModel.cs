using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Models;

/// <summary>
/// What the two VAE families share beyond their networks: the <see cref="VaeLoss"/> (and its discriminator as the
/// auxiliary network), prior sampling through <see cref="VaeMath"/> and whole images by <see cref="TiledDecoding"/>
/// with feathered blending. A family supplies its encoder and decoder, its loss and an estimate of the decoder's
/// working memory.
/// </summary>
public abstract class VaeModel : nn.Module, ILikelihoodModel, IAuxiliaryModel, IWholeImageModel
{
    protected VaeModel(string name) : base(name) { }

    /// <summary>The family's loss; built in its constructor.</summary>
    protected abstract VaeLoss LossFunction { get; }

    /// <summary>Float elements alive while the decoder decodes one latent, an estimate (for whole-image memory checks).</summary>
    protected abstract long DecoderElements();

    public abstract string Kind { get; }
    public abstract int Channels { get; }
    public abstract int Resolution { get; }
    public abstract int LatentSize { get; }
    public nn.Module Module => this;

    public abstract (Tensor Mu, Tensor LogVar) Encode(Tensor x);
    public abstract Tensor Decode(Tensor z);
    public abstract LossTerms Loss(Tensor x, LossContext context);

    /// <summary>The family's loss of batch <paramref name="x"/>: encode, decode the posterior mean (validation) or a
    /// reparameterized draw, then <see cref="VaeLoss.Terms"/> with KL weight <paramref name="beta"/>.</summary>
    protected LossTerms VaeLossOf(Tensor x, LossContext context, double beta, double reconstructionWeight, Func<Tensor> lastLayer) =>
        LossFunction.Terms(x, VaeMath.Forward(this, x, context.Noise, deterministic: context.Validation), context, beta, reconstructionWeight, lastLayer);

    public nn.Module? Auxiliary => LossFunction.Discriminator;
    public string AuxiliaryName => VaeLoss.AuxiliaryName;
    public AuxiliaryOptimizerSettings AuxiliaryOptimizer => LossFunction.DiscriminatorOptimizer;

    public Tensor Sample(SampleRequest request) => VaeMath.SamplePrior(this, request);

    public string DescribeSampler(SamplerSettings settings) => VaeMath.DescribePrior(this, settings);

    public string WholeImageMethod => TiledDecoding.Method;

    public Sampling.WindowWeighting Weighting => Sampling.WindowWeighting.Feather;

    public Sampling.WholeImageCost Cost(Sampling.WindowPlan plan, int batch, int count, SamplerSettings settings) =>
        TiledDecoding.Cost(this, plan, batch, count, settings, DecoderElements());

    public Tensor Synthesize(Sampling.WholeImageRequest request) => TiledDecoding.Synthesize(this, request);

    protected override void Dispose(bool disposing)
    {
        if (disposing) LossFunction.Dispose();
        base.Dispose(disposing);
    }
}
