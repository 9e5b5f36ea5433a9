namespace Hypha.Evaluation;

/// <summary>The image sets an evaluation holds, as keys for cached features.</summary>
public enum ImageSet
{
    /// <summary>Real chunks of the training split.</summary>
    TrainReal,
    /// <summary>First half of the real test chunks: the reference set every sample-based metric compares against.</summary>
    TestRealA,
    /// <summary>Second half of the real test chunks, disjoint from <see cref="TestRealA"/>: stands in for the samples to give each metric's real-vs-real floor.</summary>
    TestRealB,
    /// <summary>Images sampled from the model.</summary>
    Samples,
}
