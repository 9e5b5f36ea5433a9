using System.Globalization;
using Hypha.Imaging;
using Hypha.Sampling;
using static TorchSharp.torch;

namespace Hypha.Reporting;

/// <summary>
/// The report's "Whole images" figure (section id whole-images): the latest folder <c>hypha synthesize</c> wrote for
/// the run (recorded in its whole-images.jsonl), up to <see cref="Shown"/> whole images in the bottom row beneath as
/// many crops of the same size from the run's real source images (normalized as the run normalized them) in the top
/// row, all shrunk by the same factor, so that their large-scale layout can be compared at the same scale.
/// </summary>
public static class WholeImagesSection
{
    /// <summary>Whole images shown (default 4).</summary>
    public const int Shown = 4;

    /// <summary>Longer side of each image on the figure, in pixels (default 360).</summary>
    public const int Side = 360;

    /// <summary>The figure for the latest recorded folder of <paramref name="runRoot"/>, or null when there is none.</summary>
    public static ReportFigure? Collect(string runRoot, IReadOnlyList<NormalizedImage> sources)
    {
        var recorded = WholeImageWriter.Recorded(runRoot);
        if (recorded.Count == 0) return null;
        var (folder, manifest) = recorded[^1];
        var files = manifest.Files.Where(f => f.EndsWith(".png", StringComparison.OrdinalIgnoreCase)).Take(Shown).ToList();
        if (files.Count == 0) files = manifest.Files.Take(Shown).ToList();
        using var scope = NewDisposeScope();
        var synthetic = files.Select(f => Read(Path.Combine(folder, f))).Where(t => t is not null).Select(t => t!).ToList();
        if (synthetic.Count == 0) return null;
        var grid = Compose(sources, synthetic, Side);
        var real = sources.Count > 0;
        var caption = (real ? $"Top: {synthetic.Count} crops of the run's real images ({string.Join(", ", sources.Select(s => s.Label).Distinct())}), each as large as a synthetic image. Bottom: " : "") +
                      $"{synthetic.Count} whole synthetic images of {manifest.Width} x {manifest.Height} px made by hypha synthesize " +
                      $"({manifest.Method}, windows of {manifest.Window} px every {manifest.Stride} px, {manifest.WindowsPerImage:N0} per image, seed {manifest.Seed}; " +
                      $"{manifest.SecondsPerMegapixel.ToString("0.#", CultureInfo.InvariantCulture)} s per megapixel on {manifest.Device}) from {folder}. " +
                      "All are shown at the same scale: compare the layout (roots crossing the field, background beside them) as well as the texture, and look for seams on a grid of the window size.";
        return new ReportFigure("Whole images", caption, ImageEncoding.Encode(grid, ImageFormat.Png8));
    }

    /// <summary>
    /// Real crops (top row) above <paramref name="synthetic"/> images (bottom row), each shrunk to a longer side of at
    /// most <paramref name="side"/> px by the same factor. Crops are the synthetic images' size (or the source's, when
    /// smaller; the synthetic images are then centre-cropped to it too), taken at evenly spaced places along each
    /// source's diagonal, cycling through the sources.
    /// </summary>
    public static Tensor Compose(IReadOnlyList<NormalizedImage> sources, IReadOnlyList<Tensor> synthetic, int side)
    {
        using var scope = NewDisposeScope();
        int h = (int)synthetic[0].shape[1], w = (int)synthetic[0].shape[2], c = (int)synthetic[0].shape[0];
        if (sources.Count > 0)
        {
            h = Math.Min(h, sources.Min(s => s.Height));
            w = Math.Min(w, sources.Min(s => s.Width));
        }
        var tiles = new List<Tensor>();
        for (var i = 0; i < synthetic.Count && sources.Count > 0; i++)
        {
            var s = sources[i % sources.Count];
            var round = i / sources.Count;
            var rounds = (synthetic.Count + sources.Count - 1) / sources.Count;
            var f = (round + 1.0) / (rounds + 1);
            int x = (int)((s.Width - w) * f), y = (int)((s.Height - h) * f);
            var plane = tensor(s.Data).view(s.Channels, s.Height, s.Width);
            var crop = plane.narrow(1, y, h).narrow(2, x, w);
            tiles.Add(Channels(crop, c));
        }
        foreach (var t in synthetic)
        {
            int y = ((int)t.shape[1] - h) / 2, x = ((int)t.shape[2] - w) / 2;
            tiles.Add(Channels(t.narrow(1, y, h).narrow(2, x, w), c));
        }
        var small = tiles.Select(t => WholeImageWriter.Downscale(t.contiguous(), side)).ToList();
        return ImageGrid.Tile(stack(small), columns: synthetic.Count, pad: 4).MoveToOuterDisposeScope();
    }

    /// <summary>Gray shown as gray beside RGB (repeated), RGB beside gray as its luminance.</summary>
    static Tensor Channels(Tensor chw, int channels)
    {
        if (chw.shape[0] == channels) return chw;
        if (channels == 3) return chw.expand(3, -1, -1);
        var rgb = tensor(new[] { 0.299f, 0.587f, 0.114f }).view(3, 1, 1);
        return (chw * rgb).sum(0, keepdim: true);
    }

    static Tensor? Read(string path)
    {
        try
        {
            var image = ImageReader.Read(path)[0];
            var scale = image.BitDepth switch { 8 => 255f, 16 => 65535f, _ => 1f };
            return (tensor(image.Pixels).view(image.Channels, image.Height, image.Width) / scale).MoveToOuterDisposeScope();
        }
        catch (HyphaException)
        {
            return null;
        }
    }
}
