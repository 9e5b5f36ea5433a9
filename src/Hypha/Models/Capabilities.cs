using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Models;

/// <summary>A model with an encoder and a decoder over a latent vector (the VAEs): reconstruction, PSNR/SSIM of
/// reconstructions, latent interpolation.</summary>
public interface IEncoderModel : IGenerativeModel
{
    /// <summary>Size of the latent vector.</summary>
    int LatentSize { get; }

    /// <summary>The latent's layout: [L] for a vector (default), [C, H, W] for a latent that is a small image
    /// (<see cref="AutoencoderKl.AutoencoderKl"/>), handed around flattened channel-major as [B, L] all the same. A
    /// fitted prior may use it (a convolutional denoiser for a latent image).</summary>
    IReadOnlyList<int> LatentShape => [LatentSize];

    /// <summary>Whether decoding N(0, I) (<c>--sampler prior</c>) gives samples of this model: its family's
    /// <see cref="ModelDescriptor.SamplesFromPrior"/> (false for <see cref="AutoencoderKl.AutoencoderKl"/>).</summary>
    bool SamplesFromPrior => ModelRegistry.Get(Kind).SamplesFromPrior;

    /// <summary>Posterior mean and log-variance of a batch [B, C, H, W] in [0, 1].</summary>
    (Tensor Mu, Tensor LogVar) Encode(Tensor x);

    /// <summary>Images [B, C, H, W] in [0, 1] from latents [B, L].</summary>
    Tensor Decode(Tensor z);
}

/// <summary>A model with a tractable lower bound on log p(x): a Gaussian VAE with an N(0, I) prior and a decoder of
/// fixed variance, scored by the importance-weighted bound (<see cref="Evaluation.Iwae"/>).</summary>
public interface ILikelihoodModel : IEncoderModel
{
}

/// <summary>A model that does work after each optimizer step (an exponential moving average of its weights).</summary>
public interface IStepHook : IGenerativeModel
{
    /// <summary>Called after every optimizer step; <paramref name="globalStep"/> counts steps taken, this one included.</summary>
    void AfterStep(long globalStep);
}

/// <summary>
/// A model that trains a second network beside itself with its own objective and its own optimizer (a VAE's patch
/// discriminator). The second network is not part of <see cref="IGenerativeModel.Module"/>: sampling never needs it,
/// and the model's optimizer must not step it. The trainer asks for this capability: it moves the network to the
/// training device, gives it an Adam of its own (<see cref="Training.AuxiliaryTraining"/>), steps it on
/// <see cref="LossTerms.Auxiliary"/> after the model's step, and keeps its weights and optimizer state in the
/// checkpoint's <c>auxiliary</c> section, so a resumed run continues both exactly.
/// </summary>
public interface IAuxiliaryModel : IGenerativeModel
{
    /// <summary>The second network, or null when the model's options train none (adversarial loss off).</summary>
    nn.Module? Auxiliary { get; }

    /// <summary>What it is, for messages (e.g. "patch discriminator").</summary>
    string AuxiliaryName { get; }

    /// <summary>Its Adam settings.</summary>
    AuxiliaryOptimizerSettings AuxiliaryOptimizer { get; }
}

/// <summary>The Adam of a model's second network.</summary>
/// <param name="Lr">Learning rate; null: the run's <c>--lr</c>. It follows the run's learning-rate schedule.</param>
/// <param name="Beta1">First-moment decay.</param>
/// <param name="Beta2">Second-moment decay.</param>
public sealed record AuxiliaryOptimizerSettings(double? Lr, double Beta1, double Beta2);

/// <summary>A model that makes an image through a sequence of intermediate states (a diffusion model's denoising).</summary>
public interface ITrajectoryModel : IGenerativeModel
{
    /// <summary>The states of one sample's generation, [frames, C, R, R] on the CPU in [0, 1]: the model's current
    /// estimate of the final image at evenly spaced points of the process, the last the sample itself.</summary>
    Tensor Trajectory(long seed, int frames, Device device, SamplerSettings settings);
}

/// <summary>
/// A model that makes images larger than its chunks, window by window over a <see cref="Sampling.WindowPlan"/>: a
/// diffusion model by joint denoising of overlapping windows (MultiDiffusion), a VAE by decoding a prior latent per
/// window and feathering the overlaps. Asked for by <c>hypha synthesize</c>.
/// </summary>
public interface IWholeImageModel : IGenerativeModel
{
    /// <summary>The method's name as manifests record it: <c>multidiffusion</c> or <c>tiled_decoding</c>.</summary>
    string WholeImageMethod { get; }

    /// <summary>How the method weighs a window's pixels where windows overlap, unless a request says otherwise.</summary>
    Sampling.WindowWeighting Weighting { get; }

    /// <summary>
    /// The memory and work of one image of <paramref name="plan"/> with <paramref name="batch"/> windows at once, out of
    /// <paramref name="count"/> images, estimated without allocating; configuration errors for settings the family
    /// does not take (as <see cref="IGenerativeModel.Sample"/> would refuse them).
    /// </summary>
    Sampling.WholeImageCost Cost(Sampling.WindowPlan plan, int batch, int count, SamplerSettings settings);

    /// <summary>One image [C, Height, Width] on the CPU, float32 in [0, 1], without gradients and in eval mode.</summary>
    Tensor Synthesize(Sampling.WholeImageRequest request);
}

/// <summary>
/// A model whose forward path depends on how far training has gone (the progressive VAE). The trainer calls
/// <see cref="Advance"/> before every step and once after loading a checkpoint; <see cref="Extras"/> go into
/// metrics.csv and TensorBoard. Its parameter set does not depend on the stage, so a checkpoint loads the same way
/// at every stage; the position itself is part of the state dict, so a loaded model is at the stage it was saved at.
/// </summary>
public interface IProgressiveModel : IGenerativeModel
{
    /// <summary>Number of stages (resolutions) from the start resolution to the chunk size.</summary>
    int Stages { get; }

    /// <summary>Current stage, 0 at the start resolution.</summary>
    int Stage { get; }

    /// <summary>Weight of the newest block's path (1 - alpha for the old, resized path); 1 outside fades.</summary>
    double Alpha { get; }

    /// <summary>Epochs at each stage; a run needs <c>Stages x EpochsPerStage</c> epochs to reach the chunk size.</summary>
    int EpochsPerStage { get; }

    /// <summary>Sets the stage and alpha from the number of training images shown.</summary>
    void Advance(long imagesSeen, long imagesPerEpoch);

    /// <summary>Extra metrics columns: <c>stage</c>, <c>alpha</c> and <c>resolution</c>.</summary>
    IReadOnlyDictionary<string, double> Extras { get; }
}

/// <summary>
/// A model whose weights for other frameworks (<c>hypha export</c>) are not its whole state dict: a diffusion model
/// exports the EMA network that samples, under the plain U-Net's names. A model without this capability exports its
/// state dict as it is (<see cref="Export.ModelWeights"/>).
/// </summary>
public interface IExportWeights : IGenerativeModel
{
    /// <summary>Which weights an export holds, as a short phrase for messages and the exported config
    /// (e.g. "the EMA weights of the U-Net, the ones that sample").</summary>
    string ExportedWeights { get; }

    /// <summary>The tensors to export, in order, by the name the PyTorch twin of the network gives them: the model's
    /// own tensors (not copies).</summary>
    IReadOnlyList<(string Name, Tensor Tensor)> ExportTensors();

    /// <summary>Every tensor of the model an exported name loads into, in order; a name may fill several (a diffusion
    /// model's online and EMA networks both start from the imported weights). Together they must cover the state dict.</summary>
    IReadOnlyList<(string Name, Tensor Target)> ImportTargets();
}

/// <summary>How callers ask a model what it can do.</summary>
public static class ModelCapabilities
{
    /// <summary>The model as capability <typeparamref name="T"/>, or null when it lacks it.</summary>
    public static T? As<T>(this IGenerativeModel model) where T : class => model as T;

    /// <summary>The model as capability <typeparamref name="T"/>; a configuration error naming the model's family and
    /// <paramref name="what"/> (e.g. "reconstruct chunks") when it lacks it.</summary>
    public static T Require<T>(this IGenerativeModel model, string what) where T : class =>
        model as T ?? throw HyphaException.Config($"the run's model ({model.Kind}) cannot {what}");

    /// <summary>Refuses sampler settings a family does not take, naming them: <paramref name="allowed"/> lists the
    /// option names (as <see cref="SamplerSettings.Given"/> spells them) it does.</summary>
    public static void RefuseSettings(this IGenerativeModel model, SamplerSettings settings, params string[] allowed)
    {
        var refused = settings.Given().Where(g => !allowed.Contains(g)).ToList();
        if (refused.Count > 0)
            throw HyphaException.Config($"{string.Join(", ", refused)} do{(refused.Count == 1 ? "es" : "")} not apply to the run's model ({model.Kind})");
    }

    /// <summary>Switches a model to eval mode until disposed, then back to the mode it had.</summary>
    public static EvalScope EvalMode(this IGenerativeModel model) => new(model.Module);

    /// <summary>See <see cref="EvalMode"/>.</summary>
    public readonly struct EvalScope : IDisposable
    {
        readonly nn.Module _module;
        readonly bool _wasTraining;

        public EvalScope(nn.Module module)
        {
            _module = module;
            _wasTraining = module.training;
            module.eval();
        }

        public void Dispose()
        {
            if (_wasTraining) _module.train();
        }
    }
}
