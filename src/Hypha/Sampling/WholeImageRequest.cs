using Hypha.Models;
using static TorchSharp.torch;

namespace Hypha.Sampling;

/// <summary>A request for one whole image from a model that can synthesize (<see cref="IWholeImageModel"/>).</summary>
/// <param name="Plan">The image size and its windows.</param>
/// <param name="Seed">Seed of every random draw.</param>
/// <param name="Index">Which image of the seeded sequence: image i depends only on (seed, i), the plan and the settings,
/// not on how many images are asked for or on <see cref="Batch"/>.</param>
public sealed record WholeImageRequest(WindowPlan Plan, long Seed, int Index)
{
    /// <summary>Windows run through the network at once; default 32.</summary>
    public int Batch { get; init; } = 32;

    /// <summary>Device to compute on; default the CPU.</summary>
    public Device Device { get; init; } = CPU;

    /// <summary>Family options (denoising steps, eta, sampler); default none set, the family's own defaults.</summary>
    public SamplerSettings Settings { get; init; } = new();

    /// <summary>How overlapping windows are weighed; default null: the model's <see cref="IWholeImageModel.Weighting"/>.</summary>
    public WindowWeighting? Weighting { get; init; }

    /// <summary>Called with the window evaluations finished so far for this image (of <see cref="WholeImageCost.Evaluations"/>).</summary>
    public Action<long>? Progress { get; init; }

    /// <summary>Checked between window batches; cancelling throws <see cref="OperationCanceledException"/>.</summary>
    public CancellationToken Cancel { get; init; }
}

/// <summary>What one whole image costs, estimated before anything is allocated.</summary>
/// <param name="DeviceBytes">Peak bytes on the compute device: the image-sized state plus one batch of windows' activations.</param>
/// <param name="HostBytes">Peak bytes on the host besides the device's (the finished image, latent tables).</param>
/// <param name="Evaluations">Network evaluations of one window per image (windows x denoising steps for diffusion, windows for a VAE).</param>
/// <param name="Steps">Passes over the windows per image (denoising steps; 1 for a VAE).</param>
public sealed record WholeImageCost(long DeviceBytes, long HostBytes, long Evaluations, int Steps);
