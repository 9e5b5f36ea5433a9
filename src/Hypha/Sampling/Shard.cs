using System.Globalization;

namespace Hypha.Sampling;

/// <summary>
/// The K-th of N disjoint slices of a seeded set (<c>--shard K/N</c>, K from 1), so that N cluster array jobs
/// together write exactly the files one job would. Samples are sliced in whole batches (<see cref="Batches"/>): every
/// image is then computed in the same batch, of the same size, as one job computes it, so the files are byte-identical
/// on the same hardware, not just close. Real chunks, which need no model, are sliced evenly (<see cref="Even"/>).
/// </summary>
/// <param name="Index">K, from 1 to <paramref name="Count"/>.</param>
/// <param name="Count">N, at least 1.</param>
public readonly record struct Shard(int Index, int Count)
{
    /// <summary>The whole set: 1/1.</summary>
    public static Shard Whole => new(1, 1);

    /// <summary>Whether this is more than one slice (N above 1).</summary>
    public bool IsPart => Count > 1;

    public override string ToString() => $"{Index}/{Count}";

    /// <summary>Parses <c>K/N</c>; a configuration error naming <c>--shard</c> and what it takes.</summary>
    public static Shard Parse(string text) => TryParse(text, out var shard, out var problem) ? shard : throw HyphaException.Config(problem!);

    /// <summary>See <see cref="Parse"/>; <paramref name="problem"/> is the one-line message when it fails.</summary>
    public static bool TryParse(string? text, out Shard shard, out string? problem)
    {
        shard = Whole;
        problem = null;
        var parts = (text ?? "").Split('/');
        if (parts.Length != 2
            || !int.TryParse(parts[0].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var k)
            || !int.TryParse(parts[1].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            problem = $"--shard: '{text}' is not K/N (the K-th of N slices, e.g. 3/8; with a 0-based array index use $((SLURM_ARRAY_TASK_ID + 1))/N)";
            return false;
        }
        if (n < 1) problem = $"--shard: '{text}': N must be at least 1";
        else if (k < 1 || k > n) problem = $"--shard: '{text}': K must be from 1 to N ({n}); slices count from 1";
        if (problem is not null) return false;
        shard = new Shard(k, n);
        return true;
    }

    /// <summary>
    /// This shard's images [Start, End) of a set of <paramref name="total"/> made in batches of <paramref name="batch"/>:
    /// the ceil(total / batch) batches are dealt out in contiguous runs whose lengths differ by at most one, so a
    /// slice starts on a batch boundary and ends on one or at the end. With fewer batches than shards some slices are
    /// empty (Start == End).
    /// </summary>
    public (int Start, int End) Batches(int total, int batch)
    {
        if (total < 0) throw new ArgumentOutOfRangeException(nameof(total));
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch));
        var batches = (total + (long)batch - 1) / batch;
        var from = batches * (Index - 1) / Count;
        var to = batches * Index / Count;
        return ((int)Math.Min(total, from * batch), (int)Math.Min(total, to * batch));
    }

    /// <summary>This shard's items [Start, End) of <paramref name="total"/>, in contiguous runs whose lengths differ by at most one.</summary>
    public (int Start, int End) Even(int total) =>
        ((int)((long)total * (Index - 1) / Count), (int)((long)total * Index / Count));
}
