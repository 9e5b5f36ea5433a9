using System.Runtime.InteropServices;
using Hypha.Imaging;

namespace Hypha.Bench;

/// <summary>
/// Normalized images in one binary file, so the benchmark can run where the image codecs are not carried: the GPU
/// machine gets a publish without OpenCV's native library (113 MB of the 297 MB), which would not fit the device tool's
/// 64 MiB transfer (bench/gpu/pack.sh). Written here with the normal reader and normalization, read there as they were.
/// </summary>
public static class ImagePack
{
    const string Magic = "hypha-image-pack-1";

    /// <summary>True for a path that names a pack rather than a folder or pattern of images.</summary>
    public static bool IsPack(string path) => path.EndsWith(".imagepack", StringComparison.Ordinal);

    public static void Write(string path, IReadOnlyList<NormalizedImage> images)
    {
        using var w = new BinaryWriter(File.Create(path));
        w.Write(Magic);
        w.Write(images.Count);
        foreach (var im in images)
        {
            w.Write(im.Label);
            w.Write(im.Source);
            w.Write(im.Page);
            w.Write(im.Width);
            w.Write(im.Height);
            w.Write(im.Channels);
            w.Write(im.Data.Length);
            w.Write(MemoryMarshal.AsBytes(im.Data.AsSpan()));
        }
    }

    public static IReadOnlyList<NormalizedImage> Read(string path)
    {
        using var r = new BinaryReader(File.OpenRead(path));
        if (r.ReadString() != Magic) throw new InvalidDataException($"{path}: not an image pack written by hypha-bench --mode pack");
        var images = new NormalizedImage[r.ReadInt32()];
        for (var i = 0; i < images.Length; i++)
        {
            var (label, source, page, width, height, channels) = (r.ReadString(), r.ReadString(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32());
            var data = new float[r.ReadInt32()];
            if (data.Length != (long)width * height * channels) throw new InvalidDataException($"{path}: image {i} holds {data.Length} values, not {width}x{height}x{channels}");
            r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(data.AsSpan()));
            images[i] = new NormalizedImage(label, source, page, width, height, channels, data);
        }
        return images;
    }
}
