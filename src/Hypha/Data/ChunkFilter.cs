namespace Hypha.Data;

/// <summary>Keeps chunks whose mean lies in [<paramref name="MinMean"/>, <paramref name="MaxMean"/>] (thesis: drop above 0.85, background, and below 0.10, black).</summary>
public readonly record struct ChunkFilter(double MinMean, double MaxMean)
{
    public bool Keeps(double mean) => mean >= MinMean && mean <= MaxMean;

    public void Validate()
    {
        if (!(MinMean >= 0 && MinMean <= 1) || !(MaxMean >= 0 && MaxMean <= 1))
            throw HyphaException.Config($"--min-mean and --max-mean must lie in [0, 1] (got {MinMean} and {MaxMean})");
        if (MinMean > MaxMean)
            throw HyphaException.Config($"--min-mean {MinMean} is above --max-mean {MaxMean}: every chunk would be dropped");
    }
}
