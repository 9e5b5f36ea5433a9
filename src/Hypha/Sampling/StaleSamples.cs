using System.Text.RegularExpressions;

namespace Hypha.Sampling;

/// <summary>
/// <c>sample --overwrite</c> replaces a folder's samples as a whole: after a successful write, Hypha's own sample files
/// (<c>sample_NNNNNN.png/.tif</c>, a stack <c>samples.tif</c>) that this set does not hold (an earlier, larger run, or another format) are removed,
/// so the folder never mixes two runs' samples. Other files are left alone.
/// </summary>
public static partial class StaleSamples
{
    /// <summary>Removes the sample files in <paramref name="outDir"/> that are not in <paramref name="keep"/> (the set's
    /// own files: of every shard, for a sharded set); returns them.</summary>
    public static IReadOnlyList<string> Remove(string outDir, IEnumerable<string> keep)
    {
        var own = keep.Select(Path.GetFullPath).ToHashSet(StringComparer.Ordinal);
        var stale = Directory.EnumerateFiles(outDir).Where(f => SampleName().IsMatch(Path.GetFileName(f)) && !own.Contains(Path.GetFullPath(f)))
            .Order(StringComparer.Ordinal).ToList();
        foreach (var f in stale) File.Delete(f);
        return stale;
    }

    [GeneratedRegex(@"^(sample_\d{6,}\.(png|tif|tiff)|samples\.tif)$", RegexOptions.IgnoreCase)]
    private static partial Regex SampleName();
}
