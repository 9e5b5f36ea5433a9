using Hypha.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Models.Diffusion;

/// <summary>
/// Joint denoising of overlapping windows (MultiDiffusion, Bar-Tal et al. 2023) with a U-Net trained on chunks: one
/// x_t of the whole image; at each denoising step every window of the <see cref="WindowPlan"/> is cut from x_t and
/// run through the network (<see cref="WholeImageRequest.Batch"/> windows at once), each pixel's x0 estimate is the
/// weighted mean of the estimates of the windows that cover it, and the sampler's update is applied once to the whole
/// image with that estimate and noise drawn for the whole image. Because the DDIM and DDPM updates are affine in x0
/// for fixed x_t and noise, this is MultiDiffusion's mean of the windows' updates, with one noise field shared by all
/// windows (averaging per-window noise would shrink it where windows overlap). Neighbouring windows see the same x_t
/// and are pulled to agree at every step; feathered weights (the default) keep a U-Net's weak window edges from
/// drawing a grid (docs/whole-images.md). Memory: the image-sized state (x_t, the running sum of estimates, the
/// coverage) plus one batch of windows, whatever the image size.
/// </summary>
public static class MultiDiffusion
{
    /// <summary>The method's name in manifests.</summary>
    public const string Method = "multidiffusion";

    /// <summary>Image-sized float32 buffers of [C, H, W] alive at the peak of a step (x_t, the sum of estimates, the
    /// blended estimate, the noise, the update's temporaries and result), besides one plane of coverage.</summary>
    public const int ImageBuffers = 12;

    /// <summary>
    /// Image <see cref="WholeImageRequest.Index"/> of the seed: x_T and every later noise draw come from the
    /// generator of (seed, index) (<see cref="SampleNoise"/>), with the shape of the whole image, so a plan of one
    /// window of the chunk size draws exactly what <c>hypha sample</c> draws for sample <c>index</c>, and makes the
    /// same image. Returns [C, H, W] on the CPU in [0, 1].
    /// </summary>
    public static Tensor Sample(UNet net, IDiffusionSampler sampler, int channels, WholeImageRequest request, WindowWeighting weighting)
    {
        var plan = request.Plan;
        var device = request.Device;
        int r = plan.Window, batch = Math.Max(1, request.Batch);
        long[] shape = [channels, plan.Height, plan.Width];
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Generator[] generator = [new Generator(SampleNoise.SeedFor(request.Seed, request.Index))];
        try
        {
            var x = SampleNoise.Draw(generator, shape)[0].to(device);
            // One window: its weights are the whole blend, so the estimate is used as it is (bit for bit `hypha sample`).
            var single = plan.Count == 1;
            var weights = single || weighting == WindowWeighting.Uniform ? null : plan.Weights(weighting).to(device);
            var inverse = single ? null : plan.Coverage(weighting).reciprocal_().to(device);
            long done = 0;
            for (var k = 0; k < sampler.Timesteps.Count; k++)
            {
                using var step = NewDisposeScope();
                var sum = zeros_like(x);
                for (var first = 0; first < plan.Count; first += batch)
                {
                    using var inner = NewDisposeScope();
                    request.Cancel.ThrowIfCancellationRequested();
                    var n = Math.Min(batch, plan.Count - first);
                    var crops = stack(Enumerable.Range(first, n).Select(i =>
                    {
                        var (px, py) = plan[i];
                        return x.narrow(1, py, r).narrow(2, px, r);
                    }).ToArray());
                    var t = full(n, (long)sampler.Timesteps[k], ScalarType.Int64, device);
                    var output = net.forward(crops, t).to_type(ScalarType.Float32);
                    var x0 = sampler.Estimate(output, k, crops);
                    if (weights is not null) x0 = x0 * weights;
                    for (var j = 0; j < n; j++)
                    {
                        var (px, py) = plan[first + j];
                        sum.narrow(1, py, r).narrow(2, px, r).add_(x0[j]);
                    }
                    done += n;
                    request.Progress?.Invoke(done);
                }
                var blended = inverse is null ? sum : sum.mul_(inverse);
                var z = sampler.NeedsNoise(k) ? SampleNoise.Draw(generator, shape)[0].to(device) : null;
                var prev = sampler.Update(blended, k, x, z);
                x.Dispose();
                x = prev.MoveToOuterDisposeScope();
            }
            return ((x + 1) * 0.5).clamp(0, 1).to(CPU).MoveToOuterDisposeScope();
        }
        finally
        {
            generator[0].Dispose();
        }
    }
}
