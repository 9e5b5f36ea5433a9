using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Hypha.Data;
using Hypha.Imaging;
using OpenCvSharp;
using static TorchSharp.torch;

namespace Hypha.Evaluation;

/// <summary>How <c>hypha evaluate --samples FOLDER</c> brings images of another size to the run's chunk size.</summary>
public enum SampleResize
{
    /// <summary>Refuse an image whose size is not the run's chunk size (default).</summary>
    None,
    /// <summary>Resize to the chunk size with OpenCV's INTER_AREA (area averaging when shrinking).</summary>
    Area,
}

/// <summary>How to read a samples folder: the run's chunk geometry and channel mode, and the user's choices.</summary>
public sealed record SampleFolderOptions
{
    /// <summary>Side of the run's chunks: every image must have it (or be resized to it).</summary>
    public required int Size { get; init; }
    /// <summary>The run's channel mode: gray images become RGB by copying, RGB becomes gray by luminance, as the run's images.</summary>
    public required ChannelMode Channels { get; init; }
    /// <summary>Default <see cref="SampleResize.None"/>.</summary>
    public SampleResize Resize { get; init; } = SampleResize.None;
    /// <summary>
    /// Null (default): values are taken as they are, 8-bit divided by 255, 16-bit by 65535, float as is (must lie in
    /// [0, 1]). Else each image is normalized with this mode as the run normalized its source images.
    /// </summary>
    public NormalizeMode? NormalizeLike { get; init; }
    public double PercentileLow { get; init; } = 1.0;
    public double PercentileHigh { get; init; } = 99.8;
    /// <summary>Unreadable files: skipped and listed (default), or the whole folder refused.</summary>
    public BadImagePolicy OnBadImage { get; init; } = BadImagePolicy.Skip;
}

/// <summary>The images of a samples folder, as a CPU float32 [N, C, S, S] tensor in [0, 1], and what identifies them.</summary>
/// <param name="Folder">Absolute path of the folder.</param>
/// <param name="Images">Every readable image (each TIFF page one image), in sorted file order. Owned by the caller.</param>
/// <param name="Files">Image files found (readable or not), relative to the folder, sorted ordinally.</param>
/// <param name="Sha256">SHA-256 (hex) over the sorted relative names and bytes of <paramref name="Files"/>.</param>
/// <param name="Skipped">Files left out under <see cref="BadImagePolicy.Skip"/>, with the problem.</param>
/// <param name="Resized">Images that were resized.</param>
public sealed record SampleFolderImages(string Folder, Tensor Images, IReadOnlyList<string> Files, string Sha256,
    IReadOnlyList<BadImage> Skipped, int Resized);

/// <summary>Reads a folder of images made by any generator (<c>hypha evaluate --samples FOLDER</c>).</summary>
public static class SampleFolder
{
    /// <summary>
    /// Reads every PNG, JPEG and TIFF under <paramref name="folder"/> (recursively) through <see cref="ImageReader"/>.
    /// Throws <see cref="HyphaException"/> (bad input) naming the file for an image of the wrong size (unless
    /// resized), values outside [0, 1], or an unreadable file under <see cref="BadImagePolicy.Fail"/>.
    /// </summary>
    public static SampleFolderImages Read(string folder, SampleFolderOptions options, Action<string>? log = null)
    {
        var root = Path.GetFullPath(folder);
        if (File.Exists(root)) throw HyphaException.Input(root, "is a file; --samples takes a folder of images");
        if (!Directory.Exists(root)) throw HyphaException.Input(root, "no such folder");
        // hypha sample writes grid.png, a tiled overview, beside its samples: it is not a sample.
        var files = ImageFiles.Expand([root]).Where(f => !(Path.GetFileName(f) == "grid.png" && Path.GetDirectoryName(f) == root)).ToList();
        if (files.Count == 0) throw HyphaException.Input(root, "the folder holds no image files besides grid.png");
        var relative = files.Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).ToList();
        var hash = Hash(root, relative);
        var s = options.Size;
        var c = options.Channels.Count();
        var planes = new List<float[]>();
        var skipped = new List<BadImage>();
        var resized = 0;
        foreach (var file in files)
        {
            IReadOnlyList<RawImage> pages;
            try
            {
                pages = ImageReader.Read(file);
            }
            catch (HyphaException e) when (e.Code == ExitCode.BadInput)
            {
                if (options.OnBadImage == BadImagePolicy.Fail || files.Count == 1) throw;
                skipped.Add(new BadImage(file, e.Message));
                log?.Invoke($"skipped {e.Message}");
                continue;
            }
            foreach (var page in pages)
            {
                var raw = page;
                if (raw.Width != s || raw.Height != s)
                {
                    if (options.Resize == SampleResize.None)
                        throw HyphaException.Input(file, $"{raw.Label} is {raw.Width} x {raw.Height} px, the run's chunks are {s} x {s}; " +
                                                         "generate images of the chunk size, or pass --resize area to resize them");
                    raw = ResizeArea(raw, s);
                    resized++;
                }
                raw = raw.To(options.Channels);
                float[] values;
                if (options.NormalizeLike is { } mode)
                {
                    try
                    {
                        values = Normalization.Apply(raw, mode, options.PercentileLow, options.PercentileHigh).Data;
                    }
                    catch (HyphaException e) when (e.Code == ExitCode.BadInput && options.OnBadImage == BadImagePolicy.Skip && files.Count > 1)
                    {
                        skipped.Add(new BadImage(file, e.Message));
                        log?.Invoke($"skipped {e.Message}");
                        continue;
                    }
                }
                else values = Scale(raw);
                planes.Add(values);
            }
        }
        if (planes.Count == 0)
            throw new HyphaException(ExitCode.BadInput, $"none of the {files.Count} image file(s) could be read:\n  " +
                                                        string.Join("\n  ", skipped.Select(b => b.Problem)), root);
        var all = new float[(long)planes.Count * c * s * s];
        for (var i = 0; i < planes.Count; i++) Array.Copy(planes[i], 0, all, (long)i * c * s * s, c * s * s);
        var images = tensor(all, [planes.Count, c, s, s]).DetachFromDisposeScope();
        return new SampleFolderImages(root, images, relative, hash, skipped, resized);
    }

    /// <summary>
    /// SHA-256 (lower-case hex) over the files in ordinal order of their relative names: for each, the UTF-8 name
    /// with '/' separators, a 0 byte, the length as 8 little-endian bytes, then the bytes.
    /// </summary>
    public static string Hash(string root, IReadOnlyList<string> relative)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var rel in relative.Order(StringComparer.Ordinal))
        {
            var bytes = File.ReadAllBytes(Path.Combine(root, rel));
            sha.AppendData(Encoding.UTF8.GetBytes(rel));
            sha.AppendData([0]);
            sha.AppendData(BitConverter.GetBytes((long)bytes.Length));
            sha.AppendData(bytes);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>Native values to [0, 1]: 8-bit / 255, 16-bit / 65535, float as is (refused outside [0, 1]).</summary>
    static float[] Scale(RawImage raw)
    {
        var px = raw.Pixels;
        var result = new float[px.Length];
        switch (raw.BitDepth)
        {
            case 8:
                for (var i = 0; i < px.Length; i++) result[i] = px[i] / 255f;
                break;
            case 16:
                for (var i = 0; i < px.Length; i++) result[i] = px[i] / 65535f;
                break;
            default:
                for (var i = 0; i < px.Length; i++)
                {
                    var v = px[i];
                    if (!(v >= 0f && v <= 1f))
                        throw HyphaException.Input(raw.Source, $"{raw.Label} is {raw.BitDepth}-bit with values outside [0, 1] (first {v:G6} at pixel {i % (raw.Width * raw.Height)}); " +
                                                               "write them in [0, 1], or pass --normalize-like-run");
                    result[i] = v;
                }
                break;
        }
        return result;
    }

    /// <summary>Each plane resized to <paramref name="side"/> x <paramref name="side"/> with INTER_AREA, native scale kept.</summary>
    static RawImage ResizeArea(RawImage raw, int side)
    {
        int n = raw.Width * raw.Height, m = side * side;
        var result = new float[raw.Channels * m];
        for (var ch = 0; ch < raw.Channels; ch++)
        {
            using var src = new Mat(raw.Height, raw.Width, MatType.CV_32FC1);
            Marshal.Copy(raw.Pixels, ch * n, src.Data, n);
            using var dst = new Mat();
            Cv2.Resize(src, dst, new OpenCvSharp.Size(side, side), 0, 0, InterpolationFlags.Area);
            if (!dst.IsContinuous()) throw new InvalidOperationException("OpenCV returned a non-contiguous image");
            Marshal.Copy(dst.Data, result, ch * m, m);
        }
        return raw with { Width = side, Height = side, Pixels = result };
    }
}
