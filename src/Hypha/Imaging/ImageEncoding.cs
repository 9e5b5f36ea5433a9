using System.Buffers.Binary;
using System.Runtime.InteropServices;
using OpenCvSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Imaging;

/// <summary>File formats for images Hypha writes.</summary>
public enum ImageFormat
{
    /// <summary>8-bit PNG (default): opens everywhere.</summary>
    Png8,
    /// <summary>16-bit TIFF: keeps the model's full precision for downstream analysis.</summary>
    Tiff16,
    /// <summary>One 16-bit multi-page TIFF for all images, with ImageJ's stack description, so Fiji/ImageJ opens it as
    /// a stack of the right slice count (<see cref="TiffStackWriter"/>).</summary>
    TiffStack,
    /// <summary>As <see cref="TiffStack"/>, in 8 bits.</summary>
    TiffStack8,
}

/// <summary>
/// Encodes [C, H, W] tensors in [0, 1] as PNG or TIFF bytes through OpenCV (RGB is written in file order), and holds
/// the one quantization every writer uses (<see cref="Pixels"/>): single files here, stacks in <see cref="TiffStackWriter"/>.
/// </summary>
public static class ImageEncoding
{
    public static string Extension(this ImageFormat f) => f == ImageFormat.Png8 ? ".png" : ".tif";

    /// <summary>Whether the format writes all images into one multi-page file.</summary>
    public static bool IsStack(this ImageFormat f) => f is ImageFormat.TiffStack or ImageFormat.TiffStack8;

    /// <summary>Bits per sample: 8 (<see cref="ImageFormat.Png8"/>, <see cref="ImageFormat.TiffStack8"/>) or 16.</summary>
    public static int BitDepth(this ImageFormat f) => f is ImageFormat.Png8 or ImageFormat.TiffStack8 ? 8 : 16;

    /// <summary>
    /// The pixels of a [C, H, W] image, clamped to [0, 1] and rounded to <paramref name="bits"/> (8: x 255, 16: x 65535),
    /// rows top to bottom, samples interleaved in channel order (HWC), 16-bit values little-endian.
    /// </summary>
    public static byte[] Pixels(Tensor chw, int bits)
    {
        if (bits is not (8 or 16)) throw new ArgumentOutOfRangeException(nameof(bits), bits, "8 or 16");
        using var scope = NewDisposeScope();
        var hwc = chw.detach().to(CPU).to_type(ScalarType.Float32).clamp(0, 1).permute(1, 2, 0).contiguous();
        if (bits == 8) return (hwc * 255).round().to_type(ScalarType.Byte).data<byte>().ToArray();
        var values = (hwc * 65535).round().to_type(ScalarType.Int32).data<int>().ToArray();
        var bytes = new byte[values.Length * 2];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), (ushort)values[i]);
        return bytes;
    }

    /// <summary>One image as file bytes of a single-image format (<see cref="ImageFormat.Png8"/> or <see cref="ImageFormat.Tiff16"/>).</summary>
    public static byte[] Encode(Tensor chw, ImageFormat format)
    {
        if (format.IsStack()) throw new ArgumentException($"{format} is a stack format: write it with TiffStackWriter", nameof(format));
        int c = (int)chw.shape[0], h = (int)chw.shape[1], w = (int)chw.shape[2];
        using var bgr = c == 3 ? chw.flip(0) : chw.alias(); // OpenCV expects BGR
        var bytes = Pixels(bgr, format.BitDepth());
        using var mat = new Mat(h, w, format.BitDepth() == 8 ? MatType.CV_8UC(c) : MatType.CV_16UC(c));
        Marshal.Copy(bytes, 0, mat.Data, bytes.Length); // 16-bit: little-endian bytes, as x86-64 and ARM64 hold them
        if (!Cv2.ImEncode(format.Extension(), mat, out var encoded))
            throw new InvalidOperationException($"OpenCV could not encode a {w}x{h} {format} image");
        return encoded;
    }
}
