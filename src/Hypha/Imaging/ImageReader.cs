using System.Runtime.InteropServices;
using Hypha.Torch;
using OpenCvSharp;

namespace Hypha.Imaging;

/// <summary>
/// Reads PNG, JPEG and TIFF at full bit depth (8/16-bit integer, 32-bit float; gray, gray+alpha, RGB, RGBA,
/// palette; multi-page TIFF) through OpenCV. Alpha is dropped; colour order becomes RGB.
/// </summary>
public static class ImageReader
{
    /// <summary>Largest image accepted, in pixels (2^28, e.g. 16384 x 16384). Larger headers are refused before allocation.</summary>
    public const long MaxPixels = 1L << 28;

    static ImageReader()
    {
        // OpenCV reads these with getenv on first use: the pixel limit makes its decoders refuse huge headers
        // before allocating, and the log level silences warnings about unknown TIFF tags.
        NativeEnvironment.SetDefault("OPENCV_IO_MAX_IMAGE_PIXELS", MaxPixels.ToString());
        NativeEnvironment.SetDefault("OPENCV_LOG_LEVEL", "ERROR");
    }

    /// <summary>Reads every selected page of <paramref name="path"/>. Throws <see cref="HyphaException"/> naming the file and the problem.</summary>
    /// <param name="header">The file's <see cref="ImageHeader.Inspect(string)"/>, when the caller has it already (default: inspected here).</param>
    public static IReadOnlyList<RawImage> Read(string path, PageSelection? pages = null, ImageHeaderInfo? header = null)
    {
        pages ??= PageSelection.All;
        var info = new FileInfo(path);
        if (!info.Exists) throw HyphaException.Input(path, "no such file");
        if (info.Length == 0) throw HyphaException.Input(path, "the file is empty (0 bytes)");

        // Structure and header size first (by content, not by file name): truncation, missing tags and huge headers
        // get a precise message here, before OpenCV allocates anything.
        header ??= ImageHeader.Inspect(path);
        var format = header.Container.ToString().ToUpperInvariant();
        Mat[] mats;
        try
        {
            if (header.Container == ImageContainer.Tiff)
            {
                if (!Cv2.ImReadMulti(path, out mats, ImreadModes.Unchanged) || mats.Length == 0)
                    throw HyphaException.Input(path, DecodeFailure(format));
                // OpenCV stops at the first page it cannot decode and returns the ones before: refuse rather than
                // silently train on part of a stack, unless the page selection does not need the missing pages.
                if (mats.Length < header.Pages && Enumerable.Range(mats.Length, header.Pages - mats.Length).Any(pages.Includes))
                {
                    foreach (var m in mats) m.Dispose();
                    throw HyphaException.Input(path, $"only {mats.Length} of the TIFF's {header.Pages} pages could be decoded: page {mats.Length} is corrupt, " +
                                                     "truncated or in a sample format OpenCV cannot read (select the readable pages with --pages)");
                }
            }
            else
            {
                var mat = Cv2.ImRead(path, ImreadModes.Unchanged);
                if (mat.Empty()) { mat.Dispose(); throw HyphaException.Input(path, DecodeFailure(format)); }
                mats = [mat];
            }
        }
        catch (OpenCVException e)
        {
            throw HyphaException.Input(path, $"cannot be decoded as {format}: OpenCV refused it ({e.Message})", e);
        }

        try
        {
            var result = new List<RawImage>();
            for (var page = 0; page < mats.Length; page++)
                if (pages.Includes(page)) result.Add(Convert(path, page, mats[page]));
            if (result.Count == 0)
                throw HyphaException.Input(path, $"the page selection '{pages}' matches none of its {mats.Length} page(s)");
            return result;
        }
        finally
        {
            foreach (var m in mats) m.Dispose();
        }
    }

    static string DecodeFailure(string format) =>
        $"cannot be decoded as {format}: its structure is whole but the pixel data is corrupt (OpenCV's decoder gave up)";

    static RawImage Convert(string path, int page, Mat mat)
    {
        var depth = mat.Depth();
        int bits = depth switch
        {
            MatType.CV_8U or MatType.CV_8S => 8,
            MatType.CV_16U or MatType.CV_16S => 16,
            MatType.CV_32F or MatType.CV_32S => 32,
            MatType.CV_64F => 64,
            _ => throw HyphaException.Input(path, $"page {page} has an unsupported sample type (OpenCV depth {depth})"),
        };
        int w = mat.Width, h = mat.Height, c = mat.Channels();
        if (w < 1 || h < 1) throw HyphaException.Input(path, $"page {page} has no pixels");

        using var f32 = new Mat();
        mat.ConvertTo(f32, MatType.CV_32FC(c));
        var planes = Cv2.Split(f32);
        try
        {
            // OpenCV orders colour as BGR(A); keep RGB, drop alpha.
            int[] order = c switch { 1 or 2 => [0], 3 or 4 => [2, 1, 0], _ => throw HyphaException.Input(path, $"page {page} has {c} channels") };
            var pixels = new float[order.Length * w * h];
            for (var i = 0; i < order.Length; i++)
            {
                var plane = planes[order[i]];
                if (!plane.IsContinuous()) throw new InvalidOperationException("OpenCV returned a non-contiguous plane");
                Marshal.Copy(plane.Data, pixels, i * w * h, w * h);
            }
            if (bits >= 32)
                for (var i = 0; i < pixels.Length; i++)
                    if (!float.IsFinite(pixels[i]))
                        throw HyphaException.Input(path, $"page {page} holds NaN or infinite values (first at pixel {i % (w * h)})");
            return new RawImage(path, page, w, h, order.Length, bits, pixels);
        }
        finally
        {
            foreach (var p in planes) p.Dispose();
        }
    }
}
