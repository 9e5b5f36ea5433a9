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
        using var one = chw.unsqueeze(0);
        return BatchPixels(one, bits)[0];
    }

    /// <summary>
    /// <see cref="Pixels(Tensor, int)"/> of every image of a [N, C, H, W] batch, quantized in one pass: writers of many
    /// images use this (one image at a time costs about 25 times more, in the tensor operations' overhead).
    /// </summary>
    public static byte[][] BatchPixels(Tensor nchw, int bits)
    {
        if (bits is not (8 or 16)) throw new ArgumentOutOfRangeException(nameof(bits), bits, "8 or 16");
        using var scope = NewDisposeScope();
        var nhwc = nchw.detach().to(CPU).to_type(ScalarType.Float32).clamp(0, 1).permute(0, 2, 3, 1).contiguous();
        var n = (int)nhwc.shape[0];
        var per = (int)(nhwc.numel() / Math.Max(1, n));
        var result = new byte[n][];
        if (bits == 8)
        {
            var all = (nhwc * 255).round().to_type(ScalarType.Byte).data<byte>().ToArray();
            for (var i = 0; i < n; i++) result[i] = all.AsSpan(i * per, per).ToArray();
            return result;
        }
        var values = (nhwc * 65535).round().to_type(ScalarType.Int32).data<int>().ToArray();
        for (var i = 0; i < n; i++)
        {
            var bytes = result[i] = new byte[per * 2];
            for (var k = 0; k < per; k++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * k), (ushort)values[i * per + k]);
        }
        return result;
    }

    /// <summary>One image as file bytes of a single-image format (<see cref="ImageFormat.Png8"/> or <see cref="ImageFormat.Tiff16"/>).</summary>
    public static byte[] Encode(Tensor chw, ImageFormat format) =>
        Encode(Pixels(chw, format.BitDepth()), (int)chw.shape[0], (int)chw.shape[1], (int)chw.shape[2], format);

    /// <summary>One image's <see cref="Pixels(Tensor, int)"/> (HWC, RGB order, of the format's bit depth) as file bytes.</summary>
    public static byte[] Encode(byte[] pixels, int channels, int height, int width, ImageFormat format)
    {
        if (format.IsStack()) throw new ArgumentException($"{format} is a stack format: write it with TiffStackWriter", nameof(format));
        var bytesPerSample = format.BitDepth() / 8;
        if (pixels.Length != channels * height * width * bytesPerSample)
            throw new ArgumentException($"{pixels.Length} bytes are not a {width}x{height}x{channels} {format.BitDepth()}-bit image", nameof(pixels));
        if (channels == 3)
        {
            // OpenCV expects BGR: swap the first and third sample of every pixel.
            pixels = (byte[])pixels.Clone();
            for (var p = 0; p < pixels.Length; p += 3 * bytesPerSample)
                for (var b = 0; b < bytesPerSample; b++)
                    (pixels[p + b], pixels[p + 2 * bytesPerSample + b]) = (pixels[p + 2 * bytesPerSample + b], pixels[p + b]);
        }
        using var mat = new Mat(height, width, bytesPerSample == 1 ? MatType.CV_8UC(channels) : MatType.CV_16UC(channels));
        Marshal.Copy(pixels, 0, mat.Data, pixels.Length); // 16-bit: little-endian bytes, as x86-64 and ARM64 hold them
        if (!Cv2.ImEncode(format.Extension(), mat, out var encoded))
            throw new InvalidOperationException($"OpenCV could not encode a {width}x{height} {format} image");
        return encoded;
    }
}
