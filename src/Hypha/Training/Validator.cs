using Hypha.Data;
using Hypha.Models;
using Hypha.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Training;

/// <summary>Loss terms and PSNR of a model on held-out chunks.</summary>
public sealed record ValidationScore(double Loss, double Reconstruction, double Kl, double MsePerPixel, double Psnr, int Chunks);

/// <summary>
/// Scores held-out chunks deterministically: reconstruction through the posterior mean (no sampling noise, no use of
/// the global RNG, so validation never changes what training does next), KL of the posterior, eval-mode batch norm.
/// </summary>
public static class Validator
{
    /// <param name="limit">Score at most this many chunks (the first ones of the part); 0 for all.</param>
    public static ValidationScore Score(IVaeModel model, ChunkBank bank, IReadOnlyList<ChunkRef> chunks, int limit, int batch, double beta)
    {
        int n = limit > 0 ? Math.Min(limit, chunks.Count) : chunks.Count;
        double recon = 0, kl = 0, mse = 0;
        using var mode = new Generation.EvalMode(model);
        using var noGrad = no_grad();
        for (var i = 0; i < n; i += batch)
        {
            using var scope = NewDisposeScope();
            int b = Math.Min(batch, n - i);
            var x = ModelInput.Fit(model, bank.Cut(chunks, i, b));
            var (mu, logVar) = model.Encode(x);
            var xhat = model.Decode(mu);
            var terms = VaeMath.Loss(x, new VaeOutput(xhat, mu, logVar, mu), beta);
            recon += terms.Reconstruction.item<float>() * b;
            kl += terms.Kl.item<float>() * b;
            mse += terms.MsePerPixel.item<float>() * b;
        }
        recon /= n;
        kl /= n;
        mse /= n;
        return new ValidationScore(recon + beta * kl, recon, kl, mse, Psnr(mse), n);
    }

    /// <summary>PSNR in dB for images in [0, 1]: 10 log10(1 / MSE).</summary>
    public static double Psnr(double msePerPixel) => 10 * Math.Log10(1.0 / Math.Max(msePerPixel, 1e-12));

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
        return Psnr(mse / n);
    }
}
