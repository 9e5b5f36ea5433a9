using System.Text.RegularExpressions;

namespace Hypha.Sampling;

/// <summary>
/// <c>sample --overwrite</c> (and <c>synthesize --overwrite</c>) replaces a folder's images as a whole: after a
/// successful write, Hypha's own image files (<c>sample_NNNNNN.png/.tif</c> and a stack <c>samples.tif</c>, or
/// <c>whole_NNNNNN.png/.tif</c>) that this set does not hold (an earlier, larger run, or another format) are removed,
/// so the folder never mixes two runs' images. Other files are left alone.
/// </summary>
public static class StaleSamples
{
    /// <summary>Removes the image files in <paramref name="outDir"/> that are not in <paramref name="keep"/> (the set's
    /// own files: of every shard, for a sharded set); returns them.</summary>
    /// <param name="prefix">The file names' prefix before <c>_NNNNNN</c>; default <c>sample</c> (whose stack
    /// <c>samples.tif</c> counts too).</param>
    public static IReadOnlyList<string> Remove(string outDir, IEnumerable<string> keep, string prefix = "sample")
    {
        var stack = prefix == "sample" ? "|samples\\.tif" : "";
        var name = new Regex($@"^({Regex.Escape(prefix)}_\d{{6,}}\.(png|tif|tiff){stack})$", RegexOptions.IgnoreCase);
        var own = keep.Select(Path.GetFullPath).ToHashSet(StringComparer.Ordinal);
        var stale = Directory.EnumerateFiles(outDir).Where(f => name.IsMatch(Path.GetFileName(f)) && !own.Contains(Path.GetFullPath(f)))
            .Order(StringComparer.Ordinal).ToList();
        foreach (var f in stale) File.Delete(f);
        return stale;
    }
}
