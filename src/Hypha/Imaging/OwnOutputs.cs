using System.Text.RegularExpressions;

namespace Hypha.Imaging;

/// <summary>
/// Hypha's own output folders, recognised while walking <c>--images</c> so that plots, grids, samples and
/// reconstructions are never read as microscopy: a run folder (config.json and checkpoints/), a <c>prepare</c> output
/// (dataset.json and config.json), a <c>sample</c> output (grid.png and sample_NNNNNN files) and a <c>reconstruct</c>
/// output (chunks.csv and NNNNNN_recon files). A folder given itself as <c>--images</c> is read as given.
/// </summary>
public static partial class OwnOutputs
{
    /// <summary>What Hypha wrote <paramref name="dir"/> as, or null when it is not one of its output folders.</summary>
    public static string? Kind(string dir)
    {
        bool Has(string name) => File.Exists(Path.Combine(dir, name));
        if (Has("config.json") && Directory.Exists(Path.Combine(dir, "checkpoints"))) return "a hypha run folder";
        if (Has("config.json") && Has("dataset.json")) return "a hypha prepare output";
        if (Has("grid.png") && Directory.EnumerateFiles(dir, "sample_*").Any(f => SampleName().IsMatch(Path.GetFileName(f)))) return "a hypha sample output";
        if (Has("chunks.csv") && Directory.EnumerateFiles(dir, "*_recon*").Any(f => ReconName().IsMatch(Path.GetFileName(f)))) return "a hypha reconstruct output";
        return null;
    }

    /// <summary>Refuses an output folder inside one of the image folders: later runs would read its plots and samples as images.</summary>
    public static void RefuseInside(string outDir, IEnumerable<string> images, string option)
    {
        var o = FileWalk.RealPathOfMaybeMissing(outDir);
        foreach (var input in images.Where(Directory.Exists))
        {
            var i = FileWalk.RealPath(input).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
            if ((o.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar).StartsWith(i, StringComparison.Ordinal))
                throw HyphaException.Config($"{option} {outDir} is inside the image folder {input}: later runs would read its plots, grids and samples " +
                                            $"as microscopy; give {option} a folder outside the images");
        }
    }

    [GeneratedRegex(@"^sample_\d{6}\.(png|tif|tiff)$", RegexOptions.IgnoreCase)]
    private static partial Regex SampleName();

    [GeneratedRegex(@"^\d{6}_recon", RegexOptions.IgnoreCase)]
    private static partial Regex ReconName();
}
