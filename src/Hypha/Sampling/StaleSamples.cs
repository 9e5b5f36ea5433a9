using System.Text.RegularExpressions;

namespace Hypha.Sampling;

/// <summary>
/// <c>sample --overwrite</c> (and <c>synthesize --overwrite</c>) replaces a folder's images as a whole: after a
/// successful write, Hypha's own image files (<c>sample_NNNNNN.png/.tif</c>, or <c>whole_NNNNNN.png/.tif</c>) that
/// this run did not write (an earlier, larger run, or another format) are removed, so the folder never mixes two runs'
/// images. Other files are left alone.
/// </summary>
public static class StaleSamples
{
    /// <param name="prefix">The file names' prefix before <c>_NNNNNN</c>; default <c>sample</c>.</param>
    public static IReadOnlyList<string> Remove(string outDir, IEnumerable<string> written, string prefix = "sample")
    {
        var name = new Regex($@"^{Regex.Escape(prefix)}_\d{{6}}\.(png|tif|tiff)$", RegexOptions.IgnoreCase);
        var keep = written.Select(Path.GetFullPath).ToHashSet(StringComparer.Ordinal);
        var stale = Directory.EnumerateFiles(outDir).Where(f => name.IsMatch(Path.GetFileName(f)) && !keep.Contains(Path.GetFullPath(f)))
            .Order(StringComparer.Ordinal).ToList();
        foreach (var f in stale) File.Delete(f);
        return stale;
    }
}
