namespace Hypha.Training;

/// <summary>
/// The order in which an epoch visits training chunks, derived from (seed, epoch) alone: a resumed run rebuilds
/// exactly the order the interrupted one had and skips the steps already done.
/// </summary>
public static class EpochOrder
{
    /// <param name="count">Training chunks.</param>
    /// <param name="epochSize">Chunks per epoch, 0 for all.</param>
    public static int[] For(int count, int epochSize, long seed, int epoch)
    {
        var order = Enumerable.Range(0, count).ToArray();
        // Not HashCode.Combine: it is randomized per process.
        new Random(unchecked(SeedFold.ToInt32(seed) * 1_000_003 + epoch * 7919 + 17)).Shuffle(order);
        return epochSize > 0 && epochSize < count ? order[..epochSize] : order;
    }

    /// <summary>Full batches per epoch; the remainder is dropped (batch norm dislikes tiny batches), but an epoch
    /// smaller than one batch still makes one step.</summary>
    public static int Steps(int epochLength, int batch) => Math.Max(1, epochLength / batch);

    public static int BatchLength(int epochLength, int batch) => Math.Min(batch, epochLength);
}
