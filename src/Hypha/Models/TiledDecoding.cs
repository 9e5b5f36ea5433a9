using Hypha.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Models;

/// <summary>
/// The VAEs' whole images, the honest baseline: every window of the <see cref="WindowPlan"/> is a chunk decoded from
/// its own latent (from N(0, I), or from the fitted prior in <see cref="SamplerSettings.Latents"/>), independent of
/// its neighbours, and overlaps are blended with feathered weights
/// (<see cref="WindowWeighting.Feather"/>). Feathering hides the tile edges, but nothing makes neighbouring tiles
/// agree: where they overlap, the image is the mean of two or four unrelated chunks.
/// </summary>
public static class TiledDecoding
{
    /// <summary>The method's name in manifests.</summary>
    public const string Method = "tiled_decoding";

    /// <summary>
    /// Device memory: the weighted sum and coverage of the image (float32) plus one batch of windows, each the
    /// decoder's activations (<paramref name="decoderElements"/> float32 elements per window, the family's estimate)
    /// and the weighted tile. Host: the latent table (windows x count latents, see <see cref="Synthesize"/>) and the
    /// finished image. Work: one decode per window.
    /// </summary>
    public static WholeImageCost Cost(IEncoderModel model, WindowPlan plan, int batch, int count, SamplerSettings settings, long decoderElements)
    {
        VaeMath.DescribePrior(model, settings); // only --sampler applies, with its fitted prior loaded
        if ((long)plan.Count * count > int.MaxValue)
            throw HyphaException.Config($"{count:N0} images of {plan.Count:N0} windows need more prior latents than one table holds ({int.MaxValue:N0}): ask for fewer images or a larger --stride");
        long window = (decoderElements + 3L * model.Channels * plan.Window * plan.Window) * sizeof(float);
        long image = (3L * model.Channels + 1) * plan.Pixels * sizeof(float);
        long latents = (long)plan.Count * count * model.LatentSize * sizeof(float);
        return new WholeImageCost(image + Math.Min(batch, plan.Count) * window, latents + model.Channels * plan.Pixels * sizeof(float), plan.Count, 1);
    }

    /// <summary>
    /// Image <see cref="WholeImageRequest.Index"/> i: window j is decoded from row <c>i x windows + j</c> of the
    /// seed's latents (N(0, I) as <see cref="VaeMath.PriorLatents"/> draws them, or the fitted prior of
    /// <see cref="SamplerSettings.Latents"/>: the rows <c>hypha sample</c> decodes with the same <c>--sampler</c>), so a
    /// plan of one window of the chunk size makes exactly <c>hypha sample</c>'s sample i. Returns [C, H, W] on the CPU in [0, 1].
    /// </summary>
    public static Tensor Synthesize(IEncoderModel model, WholeImageRequest request)
    {
        VaeMath.DescribePrior(model, request.Settings);
        var plan = request.Plan;
        var device = request.Device;
        int r = plan.Window, n = plan.Count, batch = Math.Max(1, request.Batch);
        using var mode = model.EvalMode();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var standard = request.Settings.Latents is null ? new StandardNormalLatents(model.LatentSize) : null;
        var source = request.Settings.Latents ?? standard!;
        var z = source.Sample(request.Seed, checked(request.Index * n), n, device);
        var single = n == 1;
        var weighting = request.Weighting ?? WindowWeighting.Feather;
        var weights = plan.Weights(weighting).to(device);
        var sum = zeros([model.Channels, plan.Height, plan.Width], ScalarType.Float32, device);
        for (var first = 0; first < n; first += batch)
        {
            using var inner = NewDisposeScope();
            request.Cancel.ThrowIfCancellationRequested();
            var count = Math.Min(batch, n - first);
            var tiles = model.Decode(z.narrow(0, first, count).to(device)).to_type(ScalarType.Float32);
            if (!single) tiles = tiles * weights; // one window is the whole blend: used as decoded, bit for bit `hypha sample`
            for (var j = 0; j < count; j++)
            {
                var (px, py) = plan[first + j];
                sum.narrow(1, py, r).narrow(2, px, r).add_(tiles[j]);
            }
            request.Progress?.Invoke(first + count);
        }
        if (!single) sum.div_(plan.Coverage(weighting).to(device));
        return sum.clamp(0, 1).to(CPU).MoveToOuterDisposeScope();
    }
}
