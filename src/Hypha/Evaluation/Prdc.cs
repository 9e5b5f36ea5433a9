using static TorchSharp.torch;

namespace Hypha.Evaluation;

/// <summary>Precision, recall, density and coverage of one comparison.</summary>
public sealed record PrdcValues(double Precision, double Recall, double Density, double Coverage);

/// <summary>
/// k-nearest-neighbour manifold metrics of Naeem et al. 2020 ("Reliable Fidelity and Diversity Metrics for
/// Generative Models", reference code clovaai/generative-evaluation-prdc), in float64 Euclidean distances.
/// Each point's radius is the distance to its k-th nearest neighbour in its own set (itself excluded); default k 5.
/// Precision: fraction of fake points inside some real ball. Recall: fraction of real points inside some fake ball.
/// Density: mean over fake points of (number of real balls containing it) / k. Coverage: fraction of real points
/// whose ball contains some fake point.
/// </summary>
public static class Prdc
{
    /// <summary>Default number of neighbours.</summary>
    public const int DefaultK = 5;

    /// <summary>PRDC of fake features [M, D] against real features [N, D]; both sets need more than k points.</summary>
    public static PrdcValues Compute(Tensor real, Tensor fake, int k = DefaultK)
    {
        if (real.shape[0] <= k || fake.shape[0] <= k) throw new ArgumentException($"PRDC needs more than k = {k} points per set");
        using var scope = NewDisposeScope();
        var r = real.to(float64);
        var f = fake.to(float64);
        var realRadii = KthNeighbourDistance(r, k);   // [N]
        var fakeRadii = KthNeighbourDistance(f, k);   // [M]
        var d = cdist(r, f);                          // [N, M]
        var insideReal = d < realRadii.unsqueeze(1);  // fake j inside real ball i
        var precision = insideReal.any(0).to(float64).mean().item<double>();
        var recall = (d < fakeRadii.unsqueeze(0)).any(1).to(float64).mean().item<double>();
        var density = insideReal.to(float64).sum([0]).mean().item<double>() / k;
        var coverage = (d.amin([1]) < realRadii).to(float64).mean().item<double>();
        return new PrdcValues(precision, recall, density, coverage);
    }

    /// <summary>Distance of each row to its k-th nearest other row.</summary>
    public static Tensor KthNeighbourDistance(Tensor x, int k)
    {
        using var scope = NewDisposeScope();
        var d = cdist(x, x);
        return d.kthvalue(k + 1, 1).Item1.MoveToOuterDisposeScope(); // k + 1: the smallest is the point itself
    }
}
