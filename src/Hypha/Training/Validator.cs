using Hypha.Data;
using Hypha.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Training;

/// <summary>The model's own loss terms on held-out chunks, averaged over chunks.</summary>
public sealed record ValidationScore(IReadOnlyDictionary<string, double> Terms, int Chunks)
{
    /// <summary>The term <paramref name="name"/>, NaN when the model does not report it.</summary>
    public double this[string name] => Terms.TryGetValue(name, out var v) ? v : double.NaN;
}

/// <summary>
/// Scores held-out chunks deterministically with the model's own loss: eval mode, no gradients, validation paths (a
/// VAE reconstructs through its posterior mean), and every random draw from a generator seeded by
/// <see cref="Seed"/>, so validation never changes what training does next and gives the same number for the same
/// weights.
/// </summary>
public static class Validator
{
    /// <summary>Seed of the validation generator.</summary>
    public const long Seed = 0x5A11D;

    /// <param name="limit">Score at most this many chunks (the first ones of the part); 0 for all.</param>
    /// <param name="imagesSeen">Where training stands (for loss schedules such as a KL warm-up); default 0.</param>
    public static ValidationScore Score(IGenerativeModel model, ChunkBank bank, IReadOnlyList<ChunkRef> chunks, int limit, int batch,
        long imagesSeen = long.MaxValue)
    {
        int n = limit > 0 ? Math.Min(limit, chunks.Count) : chunks.Count;
        var sums = new Dictionary<string, double>();
        using var mode = model.EvalMode();
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)Seed);
        for (var i = 0; i < n; i += batch)
        {
            using var scope = NewDisposeScope();
            int b = Math.Min(batch, n - i);
            var x = ModelInput.Fit(model, bank.Cut(chunks, i, b));
            foreach (var (k, v) in model.Loss(x, new LossContext(imagesSeen, generator, Validation: true)).Values())
                sums[k] = sums.GetValueOrDefault(k) + v * b;
        }
        return new ValidationScore(sums.ToDictionary(p => p.Key, p => n > 0 ? p.Value / n : double.NaN), n);
    }

    /// <summary>PSNR of the trivial model that predicts every pixel of a chunk as that chunk's own mean: the bar a
    /// reconstruction must clear to show it learned more than brightness.</summary>
    public static double MeanBaselinePsnr(ChunkBank bank, IReadOnlyList<ChunkRef> chunks, int limit, int batch = 256)
    {
        int n = limit > 0 ? Math.Min(limit, chunks.Count) : chunks.Count;
        double mse = 0;
        for (var i = 0; i < n; i += batch)
        {
            using var scope = NewDisposeScope();
            int b = Math.Min(batch, n - i);
            var x = bank.Cut(chunks, i, b).flatten(1);
            mse += x.var(1, unbiased: false).sum().item<float>();
        }
        return Imaging.Psnr.FromMse(mse / n);
    }
}
