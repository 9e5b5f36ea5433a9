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
}

/// <summary>Encodes [C, H, W] tensors in [0, 1] as PNG or TIFF bytes through OpenCV (RGB is written in file order).</summary>
public static class ImageEncoding
{
    public static string Extension(this ImageFormat f) => f == ImageFormat.Png8 ? ".png" : ".tif";

    public static byte[] Encode(Tensor chw, ImageFormat format)
    {
        using var scope = NewDisposeScope();
        var x = chw.detach().to(CPU).to_type(ScalarType.Float32).clamp(0, 1);
        int c = (int)x.shape[0], h = (int)x.shape[1], w = (int)x.shape[2];
        if (c == 3) x = x.flip(0); // OpenCV expects BGR
        var hwc = x.permute(1, 2, 0).contiguous();
        Mat mat;
        if (format == ImageFormat.Png8)
        {
            var bytes = (hwc * 255).round().to_type(ScalarType.Byte).data<byte>().ToArray();
            mat = new Mat(h, w, MatType.CV_8UC(c));
            Marshal.Copy(bytes, 0, mat.Data, bytes.Length);
        }
        else
        {
            var shorts = (hwc * 65535).round().to_type(ScalarType.Int32).data<int>().ToArray();
            var u16 = new short[shorts.Length];
            for (var i = 0; i < shorts.Length; i++) u16[i] = unchecked((short)(ushort)shorts[i]);
            mat = new Mat(h, w, MatType.CV_16UC(c));
            Marshal.Copy(u16, 0, mat.Data, u16.Length);
        }
        using (mat)
        {
            if (!Cv2.ImEncode(format.Extension(), mat, out var encoded))
                throw new InvalidOperationException($"OpenCV could not encode a {w}x{h} {format} image");
            return encoded;
        }
    }
}
