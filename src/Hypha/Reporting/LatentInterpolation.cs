using Hypha.Models;

using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Reporting;

/// <summary>Walks in latent space between two real chunks: decodes points on the line between their posterior means.</summary>
public static class LatentInterpolation
{
    /// <summary>
    /// For each pair (a[i], b[i]) of images [P, C, H, W], one row of <paramref name="steps"/> + 2 images: the real
    /// a[i], the decoded points (1 - t) mu(a[i]) + t mu(b[i]) for t = 0, 1/(steps-1), ..., 1, then the real b[i].
    /// Returns [P * (steps + 2), C, H, W] on the CPU, rows in order (tile with steps + 2 columns). Default 8 steps.
    /// </summary>
    public static Tensor Rows(IEncoderModel model, Tensor a, Tensor b, Device device, int steps = 8)
    {
        if (steps < 2) throw new ArgumentOutOfRangeException(nameof(steps), "need at least 2 steps");
        using var mode = model.EvalMode();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (muA, _) = model.Encode(a.to(device));
        var (muB, _) = model.Encode(b.to(device));
        var t = linspace(0, 1, steps, device: device).reshape(1, steps, 1);
        var z = (muA.unsqueeze(1) * (1 - t) + muB.unsqueeze(1) * t).reshape(-1, muA.shape[1]);   // [P * steps, L]
        var decoded = model.Decode(z).to_type(ScalarType.Float32).cpu();
        var p = a.shape[0];
        var rows = new List<Tensor>();
        for (var i = 0; i < p; i++)
        {
            rows.Add(a[i].unsqueeze(0).to_type(ScalarType.Float32).cpu());
            rows.Add(decoded[(int)(i * steps)..(int)((i + 1) * steps)]);
            rows.Add(b[i].unsqueeze(0).to_type(ScalarType.Float32).cpu());
        }
        return cat(rows, 0).MoveToOuterDisposeScope();
    }
}
