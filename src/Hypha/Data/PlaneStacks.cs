using System.Text.RegularExpressions;
using Hypha.Imaging;

namespace Hypha.Data;

/// <summary>Files recognised as the planes of one z-stack given as one file per plane.</summary>
/// <param name="Files">The files, in plane order.</param>
/// <param name="How">How they were recognised: <c>named</c> (a z/plane index in the names) or <c>similar</c> (a
/// numbered series whose neighbours are near-identical).</param>
public sealed record PlaneStack(IReadOnlyList<string> Files, string How)
{
    /// <summary>"cell_z00.tif ... cell_z12.tif (13 planes, z index in the names)", for messages.</summary>
    public string Describe() =>
        $"{Path.GetFileName(Files[0])} ... {Path.GetFileName(Files[^1])} ({Files.Count} planes, {(How == PlaneStacks.Named ? "z index in the names" : "numbered, neighbours near-identical")})";
}

/// <summary>
/// Recognises z-stacks stored as one file per plane (and numbered frames that are near-identical), so that the image split keeps a stack's planes
/// in one part: neighbouring focal planes are near-duplicates, and one plane in training and its neighbour in the test
/// part would reward memorization. Two files are planes of one stack when they sit in the same folder, have the same
/// extension and size, and their names differ only in one run of digits, and either
/// <list type="bullet">
/// <item>that number follows a z or plane marker (<c>_z03</c>, <c>-Z3</c>, <c>_plane3</c>, <c>_t0_z3_c0</c>, <c>slice</c>,
/// <c>focus</c>, <c>section</c>): every such file is one stack, whatever it looks like; or</item>
/// <item>the number is any other index (<c>img0039.tif</c>, <c>01sm.png</c>) and the two files are neighbours in that
/// numbering whose contents are near-identical: the Pearson correlation of their 32 x 32 thumbnails (area means of
/// the normalized image, z-scored) is at least <see cref="SimilarCorrelation"/>. Independent fields of view numbered
/// in order correlate far less, so they stay separate files.</item>
/// </list>
/// Stacks join transitively (planes 1-2 and 2-3 make one stack of three). Files whose names share nothing are never
/// joined by content alone. See docs/decisions.md ("Reliability, part 2").
/// </summary>
public static partial class PlaneStacks
{
    /// <summary>Value of <see cref="PlaneStack.How"/> for stacks recognised by a z/plane marker in the names.</summary>
    public const string Named = "named";

    /// <summary>Value of <see cref="PlaneStack.How"/> for numbered series recognised by near-identical neighbours.</summary>
    public const string Similar = "similar";

    /// <summary>Thumbnail correlation from which numbered neighbours count as planes of one stack: 0.9. Measured on
    /// ../shared/data (docs/decisions.md): neighbouring focal planes correlate at 0.94 and more (the 106-page embryo
    /// stack 0.94-0.997, the light-sheet stack 0.999, the leaf focus series 0.996), independent fields of view at most
    /// 0.75 (tiles of one AMF root image; the U2OS nuclei fields 0.1).</summary>
    public const double SimilarCorrelation = 0.9;

    /// <summary>Side of the thumbnails compared: 32.</summary>
    public const int ThumbnailSide = 32;

    /// <summary>The stacks of two or more files among <paramref name="images"/> (the first page of each file stands for
    /// it), in the order of their first file.</summary>
    public static IReadOnlyList<PlaneStack> Find(IReadOnlyList<NormalizedImage> images)
    {
        var first = images.GroupBy(i => i.Source, StringComparer.Ordinal).Select(g => g.First()).ToList();
        if (first.Count < 2) return [];
        var index = first.Select((img, i) => (img.Source, i)).ToDictionary(p => p.Source, p => p.i, StringComparer.Ordinal);
        var parent = Enumerable.Range(0, first.Count).ToArray();
        var named = new bool[first.Count];
        int Root(int i) => parent[i] == i ? i : parent[i] = Root(parent[i]);
        void Join(int a, int b) { a = Root(a); b = Root(b); if (a != b) parent[Math.Max(a, b)] = Math.Min(a, b); }
        var thumbs = new float[first.Count][];
        float[] Thumb(int i) => thumbs[i] ??= Thumbnail(first[i]);

        // Every (file, digit run) pair: the name with that run masked is the series key.
        var series = new Dictionary<string, List<(int File, long Number, bool Marker)>>(StringComparer.Ordinal);
        for (var i = 0; i < first.Count; i++)
        {
            var img = first[i];
            var name = Path.GetFileNameWithoutExtension(img.Source);
            var prefix = $"{Path.GetDirectoryName(img.Source)}|{Path.GetExtension(img.Source).ToLowerInvariant()}|{img.Width}x{img.Height}x{img.Channels}|";
            foreach (Match m in Digits().Matches(name))
            {
                if (m.Length > 18) continue; // not an index (a long hash or a date-time stamp)
                var key = prefix + name[..m.Index] + "\u0000" + name[(m.Index + m.Length)..];
                var marker = Marker().IsMatch(name[..m.Index]);
                if (!series.TryGetValue(key, out var list)) series[key] = list = [];
                list.Add((i, long.Parse(m.Value, System.Globalization.CultureInfo.InvariantCulture), marker));
            }
        }
        foreach (var list in series.Values.Where(l => l.Count > 1))
        {
            var ordered = list.OrderBy(x => x.Number).ThenBy(x => x.File).ToList();
            if (ordered[0].Marker) // the text before the run is part of the key: all or none have the marker
            {
                foreach (var x in ordered) { Join(ordered[0].File, x.File); named[x.File] = true; }
                continue;
            }
            for (var k = 1; k < ordered.Count; k++)
                if (Correlation(Thumb(ordered[k - 1].File), Thumb(ordered[k].File)) >= SimilarCorrelation)
                    Join(ordered[k - 1].File, ordered[k].File);
        }

        return Enumerable.Range(0, first.Count).GroupBy(Root).Where(g => g.Count() > 1)
            .Select(g =>
            {
                var files = g.OrderBy(i => first[i].Source, NaturalOrder.Instance).Select(i => first[i].Source).ToList();
                return new PlaneStack(files, g.Any(i => named[i]) ? Named : Similar);
            })
            .OrderBy(s => index[s.Files.Min(StringComparer.Ordinal)!]).ToList();
    }

    /// <summary>Area means of the image (channels averaged) on a <see cref="ThumbnailSide"/>-square grid, z-scored;
    /// all zeros for a constant image.</summary>
    public static float[] Thumbnail(NormalizedImage img)
    {
        int n = ThumbnailSide, w = img.Width, h = img.Height, plane = w * h;
        var sums = new double[n * n];
        var counts = new int[n * n];
        for (var y = 0; y < h; y++)
        {
            var ty = (int)((long)y * n / h);
            for (var x = 0; x < w; x++)
            {
                var t = ty * n + (int)((long)x * n / w);
                double v = 0;
                for (var c = 0; c < img.Channels; c++) v += img.Data[c * plane + y * w + x];
                sums[t] += v;
                counts[t]++;
            }
        }
        var values = new double[n * n];
        var filled = 0;
        for (var i = 0; i < values.Length; i++)
            if (counts[i] > 0) { values[i] = sums[i] / counts[i]; filled++; }
        double mean = 0, sq = 0;
        for (var i = 0; i < values.Length; i++) if (counts[i] > 0) mean += values[i];
        mean /= Math.Max(1, filled);
        for (var i = 0; i < values.Length; i++) if (counts[i] > 0) sq += (values[i] - mean) * (values[i] - mean);
        var std = Math.Sqrt(sq / Math.Max(1, filled));
        var result = new float[n * n];
        if (std > 1e-12)
            for (var i = 0; i < values.Length; i++) result[i] = counts[i] > 0 ? (float)((values[i] - mean) / std) : 0f;
        return result;
    }

    /// <summary>Pearson correlation of two z-scored thumbnails (0 when either is constant).</summary>
    public static double Correlation(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return na > 0 && nb > 0 ? dot / Math.Sqrt(na * nb) : 0;
    }

    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();

    /// <summary>Text before a digit run that makes it a plane index: a z, plane, slice, focus or section marker that
    /// starts a word (after a separator or at the start), e.g. <c>_z</c>, <c>-Z</c>, <c>_plane</c>, <c>slice_</c>.</summary>
    [GeneratedRegex(@"(?:^|[^A-Za-z])(?:z|plane|slice|focus|section)[_\-]?$", RegexOptions.IgnoreCase)]
    private static partial Regex Marker();

    /// <summary>Orders names with their digit runs compared as numbers (plane 2 before plane 10).</summary>
    sealed partial class NaturalOrder : IComparer<string>
    {
        public static readonly NaturalOrder Instance = new();

        public int Compare(string? x, string? y)
        {
            var a = Parts().Matches(x ?? "");
            var b = Parts().Matches(y ?? "");
            for (var i = 0; i < Math.Min(a.Count, b.Count); i++)
            {
                var (p, q) = (a[i].Value, b[i].Value);
                int c;
                if (char.IsAsciiDigit(p[0]) && char.IsAsciiDigit(q[0]))
                {
                    // As numbers of any length: fewer significant digits first, then digit by digit.
                    var (s, t) = (p.TrimStart('0'), q.TrimStart('0'));
                    c = s.Length != t.Length ? s.Length.CompareTo(t.Length) : string.CompareOrdinal(s, t);
                }
                else c = string.CompareOrdinal(p, q);
                if (c != 0) return c;
            }
            return a.Count != b.Count ? a.Count.CompareTo(b.Count) : string.CompareOrdinal(x, y);
        }

        [GeneratedRegex(@"\d+|\D+")]
        private static partial Regex Parts();
    }
}
