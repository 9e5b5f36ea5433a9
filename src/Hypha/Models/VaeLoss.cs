using Hypha.Data;
using Hypha.Models.Adversarial;
using Hypha.Models.Perceptual;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Models;

/// <summary>
/// A VAE's training objective with the loss settings of its <see cref="VaeOptions"/>, shared by the ResNet-18 VAE and
/// the progressive VAE. With the defaults it is the thesis's summed MSE + beta KL (<see cref="VaeMath.Terms"/>, bit for
/// bit). Optionally:
/// <list type="bullet">
/// <item>an L1 reconstruction (summed absolute error) in place of the summed squared error;</item>
/// <item>a perceptual term, <c>weight x pixels x</c> <see cref="ResNet18Perceptual.Distance"/>, added to the
/// reconstruction (latent diffusion's AutoencoderKL sums its per-pixel L1 + perceptual the same way);</item>
/// <item>a patch discriminator (<see cref="PatchDiscriminator"/>) from <see cref="VaeOptions.DiscStart"/> images on:
/// the objective adds <c>w x</c> the generator loss of the reconstruction, w fixed or adaptive
/// (<see cref="AdversarialMath.AdaptiveWeight"/> on the reconstruction + perceptual part), and the returned terms
/// carry the discriminator's own objective for the batch (<see cref="LossTerms.Auxiliary"/>), which the trainer
/// steps with the discriminator's optimizer after the VAE's step.</item>
/// </list>
/// The reported <c>loss</c> is the reconstruction + beta KL (+ perceptual) without the adversarial term, in training
/// and validation alike; validation (no gradients) leaves the discriminator out. The discriminator and the perceptual
/// network work at the chunk size: a progressive model's smaller stages are upsampled (bilinear) to it first.
/// </summary>
public sealed class VaeLoss : IDisposable
{
    readonly VaeOptions _o;
    readonly int _chunk;
    readonly Lazy<ResNet18Perceptual>? _perceptual;

    /// <summary>The discriminator, when <see cref="VaeOptions.Adversarial"/> is set (made here, after the VAE's own
    /// layers, so the VAE's initialization is the same with or without it); null otherwise.</summary>
    public PatchDiscriminator? Discriminator { get; }

    /// <summary>The settings.</summary>
    public VaeOptions Options => _o;

    /// <summary>The discriminator's name in messages.</summary>
    public const string AuxiliaryName = "patch discriminator";

    /// <summary>The discriminator's Adam: <see cref="VaeOptions.DiscLr"/> (0: the run's), betas 0.5 and 0.9 as VQGAN and
    /// latent diffusion train theirs.</summary>
    public AuxiliaryOptimizerSettings DiscriminatorOptimizer => new(_o.DiscLr > 0 ? _o.DiscLr : null, 0.5, 0.9);

    public VaeLoss(VaeOptions options, int channels, int chunk)
    {
        _o = options;
        _chunk = chunk;
        // Loaded at the first loss that needs it: sampling and evaluation never do (its files are checked with the
        // configuration, VaeOptions.ValidateLossShape).
        if (options.UsesPerceptual) _perceptual = new Lazy<ResNet18Perceptual>(() => ResNet18Perceptual.Load());
        if (options.UsesAdversarial) Discriminator = new PatchDiscriminator(channels, options.DiscWidth, options.DiscLayers);
    }

    /// <summary>The loss of a forward pass <paramref name="output"/> of batch <paramref name="x"/>.</summary>
    /// <param name="beta">The KL weight now (<see cref="VaeOptions.BetaAt"/>).</param>
    /// <param name="reconstructionWeight">Scales the reconstruction (and perceptual) part in the objective only.</param>
    /// <param name="lastLayer">The weight of the decoder layer that makes the image (for the adaptive weight).</param>
    public LossTerms Terms(Tensor x, VaeOutput output, LossContext context, double beta, double reconstructionWeight, Func<Tensor> lastLayer)
    {
        var basic = VaeMath.Terms(x, output, beta, reconstructionWeight, _o.Reconstruction);
        if (_perceptual is null && Discriminator is null) return basic;
        var reported = new Dictionary<string, Tensor>(basic.Reported);
        var recon = reported["reconstruction"];
        var kl = reported["kl"];
        var xhat = output.Reconstruction.to_type(ScalarType.Float32);
        var target = x.to_type(ScalarType.Float32);
        long perImage = target.numel() / target.shape[0];
        var nll = recon;
        if (_perceptual is not null)
        {
            var distance = _perceptual.Value.Distance(AtChunk(xhat), AtChunk(target), _o.PerceptualStages).mean();
            reported["perceptual"] = distance;
            nll = nll + _o.PerceptualWeight * perImage * distance;
            reported["loss"] = nll + beta * kl;
        }
        var weightedNll = reconstructionWeight == 1 ? nll : nll * reconstructionWeight;
        var objective = weightedNll + beta * kl;
        if (Discriminator is null || context.Validation || context.ImagesSeen < _o.DiscStart) return new LossTerms(objective, reported);

        // The VAE's side of the game: the discriminator's weights take no gradient from it.
        Tensor generator;
        using (Frozen(Discriminator)) generator = AdversarialMath.GeneratorLoss(_o.Adversarial, Discriminator.forward(Augmented(AtChunk(xhat))));
        var weight = _o.AdvWeighting == AdversarialWeighting.Adaptive
            ? AdversarialMath.AdaptiveWeight(weightedNll, generator, lastLayer()) * _o.AdvWeight
            : tensor(_o.AdvWeight * perImage, ScalarType.Float32, xhat.device);
        reported["adversarial"] = generator;
        reported["adv_weight"] = weight;
        var real = target.detach();
        var fake = xhat.detach();
        return new LossTerms(objective + weight * generator, reported)
        {
            Auxiliary = () =>
            {
                var d = Discriminator;
                var onReal = d.forward(Augmented(AtChunk(real)));
                var onFake = d.forward(Augmented(AtChunk(fake)));
                var loss = AdversarialMath.DiscriminatorLoss(_o.Adversarial, onReal, onFake);
                return new LossTerms(loss, new Dictionary<string, Tensor>
                {
                    ["discriminator"] = loss, ["d_real"] = onReal.mean(), ["d_fake"] = onFake.mean(),
                });
            },
        };
    }

    Tensor AtChunk(Tensor images) => images.shape[^1] == _chunk && images.shape[^2] == _chunk
        ? images
        : nn.functional.interpolate(images, [_chunk, _chunk], mode: InterpolationMode.Bilinear, align_corners: false);

    Tensor Augmented(Tensor images) => Augmentation.Apply(images, _o.DiscAugment);

    /// <summary>Turns a module's parameters' gradients off until disposed.</summary>
    static IDisposable Frozen(nn.Module module) => new FreezeScope(module);

    sealed class FreezeScope : IDisposable
    {
        readonly List<TorchSharp.Modules.Parameter> _frozen;

        public FreezeScope(nn.Module module)
        {
            _frozen = module.parameters().Where(p => p.requires_grad).ToList();
            foreach (var p in _frozen) p.requires_grad = false;
        }

        public void Dispose()
        {
            foreach (var p in _frozen) p.requires_grad = true;
        }
    }

    public void Dispose() => Discriminator?.Dispose();
}
