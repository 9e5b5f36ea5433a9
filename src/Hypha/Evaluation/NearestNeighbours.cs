using static TorchSharp.torch;

namespace Hypha.Evaluation;

/// <summary>Exact nearest neighbours in pixel space, chunked to bound memory.</summary>
public static class NearestNeighbours
{
    /// <summary>
    /// For each image of <paramref name="queries"/> [N, C, H, W], the index of and RMS pixel distance
    /// (L2 / sqrt(C*H*W)) to its nearest image in <paramref name="reference"/> [M, C, H, W]. float64 distances.
    /// </summary>
    public static (Tensor Distance, Tensor Index) Find(Tensor queries, Tensor reference, int chunk = 512)
    {
        using var scope = NewDisposeScope();
        var dim = queries.shape[1] * queries.shape[2] * queries.shape[3];
        var q = queries.reshape(queries.shape[0], -1).to(float64);
        var qq = q.square().sum(1, keepdim: true);
        Tensor? best = null, bestIndex = null;
        for (long start = 0; start < reference.shape[0]; start += chunk)
        {
            using var inner = NewDisposeScope();
            var end = Math.Min(start + chunk, reference.shape[0]);
            var r = reference[(int)start..(int)end].reshape(end - start, -1).to(float64);
            var d2 = (qq + r.square().sum(1).unsqueeze(0) - 2 * q.matmul(r.t())).clamp_min(0);
            var (v, i) = d2.min(1);
            i = i + start;
            if (best is null) { best = v; bestIndex = i; }
            else
            {
                var better = v < best;
                best = where(better, v, best);
                bestIndex = where(better, i, bestIndex!);
            }
            best = best.MoveToOuterDisposeScope();
            bestIndex = bestIndex!.MoveToOuterDisposeScope();
        }
        if (best is null) throw new ArgumentException("reference set is empty");
        return ((best / dim).sqrt().MoveToOuterDisposeScope(), bestIndex!.MoveToOuterDisposeScope());
    }
}
