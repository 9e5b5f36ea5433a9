namespace Hypha.Data;

/// <summary>Square chunks of <paramref name="Size"/> pixels cut every <paramref name="Stride"/> pixels (thesis: 224 and 16).</summary>
public readonly record struct ChunkGeometry(int Size, int Stride)
{
    /// <summary>Positions along one axis of <paramref name="length"/> pixels: floor((length - Size) / Stride) + 1, or 0 if shorter.</summary>
    public int CountAlong(int length) => length < Size ? 0 : (length - Size) / Stride + 1;

    /// <summary>Chunks in a <paramref name="width"/> x <paramref name="height"/> image (1536 x 2048 at 224/16 gives 9,545).</summary>
    public int CountIn(int width, int height) => CountAlong(width) * CountAlong(height);

    /// <summary>Rejects sizes that cut nothing sensible.</summary>
    public void Validate()
    {
        if (Size < 1) throw HyphaException.Config($"chunk size must be positive (got {Size})");
        if (Stride < 1) throw HyphaException.Config($"stride must be at least 1 (got {Stride})");
        if (Stride > Size) throw HyphaException.Config($"stride {Stride} is larger than the chunk {Size}: pixels between chunks would never be seen");
    }
}
