using System.Text.RegularExpressions;

namespace Hypha.Sampling;

/// <summary>
/// <c>sample --overwrite</c> replaces a folder's samples as a whole: after a successful write, Hypha's own sample files
/// (<c>sample_NNNNNN.png/.tif</c>) that this run did not write (an earlier, larger run, or another format) are removed,
/// so the folder never mixes two runs' samples. Other files are left alone.
/// </summary>
public static partial class StaleSamples
{
    public static IReadOnlyList<string> Remove(string outDir, IEnumerable<string> written)
    {
        var keep = written.Select(Path.GetFullPath).ToHashSet(StringComparer.Ordinal);
        var stale = Directory.EnumerateFiles(outDir).Where(f => SampleName().IsMatch(Path.GetFileName(f)) && !keep.Contains(Path.GetFullPath(f)))
            .Order(StringComparer.Ordinal).ToList();
        foreach (var f in stale) File.Delete(f);
        return stale;
    }

    [GeneratedRegex(@"^sample_\d{6}\.(png|tif|tiff)$", RegexOptions.IgnoreCase)]
    private static partial Regex SampleName();
}
