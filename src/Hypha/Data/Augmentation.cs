using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Data;

/// <summary>Label-preserving augmentation of training chunks.</summary>
public enum Augment
{
    /// <summary>Chunks as cut (default; the thesis).</summary>
    None,
    /// <summary>Each chunk flipped left-right and/or up-down with probability 1/2 each (4 variants).</summary>
    Flips,
    /// <summary>Each chunk under one of the 8 symmetries of the square (flips and 90-degree rotations), uniformly.
    /// Microscopy has no preferred orientation, so these are all real-looking chunks.</summary>
    Dihedral,
}

/// <summary>
/// Applies <see cref="Augment"/> to a batch on its device. The transform of each chunk is drawn from torch's global
/// generator, whose state checkpoints keep, so a resumed run draws the same transforms. Pixel values are only moved,
/// never changed: every statistic of a chunk's pixels is kept.
/// </summary>
public static class Augmentation
{
    /// <summary>The transformed batch [B, C, S, S] (<paramref name="x"/> itself for <see cref="Augment.None"/>).</summary>
    public static Tensor Apply(Tensor x, Augment mode, Generator? generator = null)
    {
        if (mode == Augment.None) return x;
        if (x.shape[^1] != x.shape[^2]) throw new ArgumentException("augmentation needs square chunks", nameof(x));
        int variants = mode == Augment.Flips ? 4 : 8;
        var b = x.shape[0];
        using var drawn = randint(0, variants, [b], dtype: int64, generator: generator);
        var codes = drawn.data<long>().ToArray();
        using var scope = NewDisposeScope();
        // Group by code: at most 8 gathers whatever the batch size.
        var result = empty_like(x);
        for (var code = 0; code < variants; code++)
        {
            var rows = Enumerable.Range(0, (int)b).Where(i => codes[i] == code).Select(i => (long)i).ToArray();
            if (rows.Length == 0) continue;
            using var index = tensor(rows, device: x.device);
            result.index_copy_(0, index, Transform(x.index_select(0, index), code));
        }
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Symmetry <paramref name="code"/> (0..7) of a batch: bit 0 flips left-right, bit 1 up-down, bit 2
    /// transposes (swaps height and width); 0 is the identity, 1-3 are the flips, 4-7 add a transpose (the rotations
    /// by 90 and 270 degrees and the two diagonal mirrors).</summary>
    public static Tensor Transform(Tensor x, int code)
    {
        var y = x;
        if ((code & 4) != 0) y = y.transpose(-2, -1);
        if ((code & 1) != 0) y = y.flip(-1);
        if ((code & 2) != 0) y = y.flip(-2);
        return y;
    }
}
