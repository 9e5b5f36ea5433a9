using static TorchSharp.torch;

namespace Hypha.Evaluation;

/// <summary>Index pairings shared by the paired metrics.</summary>
internal static class Pairing
{
    /// <summary>The first min(|A|, |B|) chunks of each real test half, paired by index (for paired floors).</summary>
    public static (Tensor A, Tensor B) Halves(EvaluationInputs inputs)
    {
        var n = Math.Min(inputs.TestRealA.shape[0], inputs.TestRealB.shape[0]);
        return (inputs.TestRealA[..(int)n], inputs.TestRealB[..(int)n]);
    }
}
