using System.Buffers.Binary;
using BitMiracle.LibTiff.Classic;
using OpenCvSharp;

namespace Hypha.Tests.Faults;

/// <summary>
/// Builds bad (and edge-case) image files at test time in a temp folder, from the real images in shared/data where a
/// real file is needed. Nothing here is committed as a binary.
/// </summary>
public static class BadFiles
{
    public static string Jpeg => SharedData.Path("amf_ink_roots", "N_benthamiana_roots_R_irregularis_ink_low_magnification_2.jpg");
    public static string Png8 => SharedData.Path("skimage_debian", "cell.png");
    public static string Png16 => SharedData.Path("skimage_tutorials_cc0", "zebrafish-spinal-cord.png");
    /// <summary>16-bit gray, one strip, IFD at the end of the file.</summary>
    public static string Tiff16 => SharedData.Path("bbbc039_u2os_nuclei", "IXMtest_A02_s1_w1051DAA7C-7042-435F-99F0-1E847D9B42CB.tif");
    /// <summary>16-bit gray, IFD at byte 8 before its single strip: truncation cuts pixel data, not the header.</summary>
    public static string Tiff16HeaderFirst => SharedData.Path("dfnn_lightsheet_zstack", "cell11G3Dz0p5um_ch0_stack0001_488nm_0004525msec_0007559766msecAbs0039.tif");
    /// <summary>5-page 16-bit TIFF: first IFD at byte 8, the other four at the end.</summary>
    public static string MultiPageTiff => SharedData.Path("trackpy_particles", "stuck.tif");

    public static string Copy(string source, string dir, string? name = null)
    {
        var path = Path.Combine(dir, name ?? Path.GetFileName(source));
        File.Copy(source, path);
        File.SetAttributes(path, FileAttributes.Normal);
        return path;
    }

    public static string Bytes(string dir, string name, byte[] bytes)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public static string ZeroBytes(string dir, string name = "empty.png") => Bytes(dir, name, []);

    public static string TextAsPng(string dir, string name = "notes.png") =>
        Bytes(dir, name, "These are my notes about the roots, not an image.\n"u8.ToArray());

    /// <summary>The first <paramref name="fraction"/> of a real file.</summary>
    public static string Truncated(string source, string dir, double fraction = 0.5, string? name = null)
    {
        var all = File.ReadAllBytes(source);
        return Bytes(dir, name ?? "truncated-" + Path.GetFileName(source), all[..(int)(all.Length * fraction)]);
    }

    /// <summary>A valid magic number followed by seeded random bytes.</summary>
    public static string RandomWithMagic(string dir, string format, int seed = 1)
    {
        byte[] magic = format switch
        {
            "png" => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A],
            "jpg" => [0xFF, 0xD8, 0xFF, 0xE0],
            "tif" => [(byte)'I', (byte)'I', 42, 0],
            _ => throw new ArgumentException(format),
        };
        var rest = new byte[64 * 1024];
        new Random(seed).NextBytes(rest);
        return Bytes(dir, $"random.{format}", [.. magic, .. rest]);
    }

    // ---- TIFF tag surgery on a real little-endian TIFF (test-side only: builds broken files) ----

    /// <summary>Entries of the first IFD: (offset of the entry, tag).</summary>
    static List<(int Entry, ushort Tag)> FirstIfd(byte[] d)
    {
        if (d[0] != 'I') throw new InvalidOperationException("test helper expects a little-endian TIFF");
        var ifd = (int)BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(4));
        int n = BinaryPrimitives.ReadUInt16LittleEndian(d.AsSpan(ifd));
        return Enumerable.Range(0, n).Select(i => ifd + 2 + 12 * i).Select(e => (e, BinaryPrimitives.ReadUInt16LittleEndian(d.AsSpan(e)))).ToList();
    }

    static int Entry(byte[] d, ushort tag) => FirstIfd(d).Single(t => t.Tag == tag).Entry;

    /// <summary>The real 16-bit TIFF with a tag renamed to a private, unknown number: the reader sees it missing.</summary>
    public static string TiffMissingTag(string dir, ushort tag = 256, string name = "missing-width.tif")
    {
        var d = File.ReadAllBytes(Tiff16);
        // 65000 sorts after every real tag, so the IFD stays in ascending order only if we also move it; libtiff warns and copes.
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(Entry(d, tag)), 65000);
        return Bytes(dir, name, d);
    }

    /// <summary>The real 16-bit TIFF whose StripOffsets point past the end of the file.</summary>
    public static string TiffBrokenStripOffsets(string dir)
    {
        var d = File.ReadAllBytes(Tiff16);
        var e = Entry(d, 273); // StripOffsets: LONG[count] at an offset
        var count = BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(e + 4));
        var at = (int)BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(e + 8));
        for (var i = 0; i < count; i++) BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(at + 4 * i), 0x7FFF0000u + (uint)i);
        return Bytes(dir, "broken-strip-offsets.tif", d);
    }

    /// <summary>The real 16-bit TIFF with BitsPerSample set to 13.</summary>
    public static string TiffBrokenBitsPerSample(string dir)
    {
        var d = File.ReadAllBytes(Tiff16);
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(Entry(d, 258) + 8), 13);
        return Bytes(dir, "bits-13.tif", d);
    }

    /// <summary>The real 16-bit TIFF whose header claims <paramref name="side"/> x <paramref name="side"/> pixels.</summary>
    public static string TiffHuge(string dir, uint side = 100_000)
    {
        var d = File.ReadAllBytes(Tiff16);
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(Entry(d, 256) + 8), side);
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(Entry(d, 257) + 8), side);
        return Bytes(dir, "huge.tif", d);
    }

    /// <summary>The real PNG whose IHDR claims <paramref name="side"/> x <paramref name="side"/> pixels (CRC fixed, so only the size is wrong).</summary>
    public static string PngHuge(string dir, uint side = 100_000)
    {
        var d = File.ReadAllBytes(Png8);
        BinaryPrimitives.WriteUInt32BigEndian(d.AsSpan(16), side);
        BinaryPrimitives.WriteUInt32BigEndian(d.AsSpan(20), side);
        BinaryPrimitives.WriteUInt32BigEndian(d.AsSpan(29), Crc32(d.AsSpan(12, 17)));
        return Bytes(dir, "huge.png", d);
    }

    /// <summary>The real JPEG whose SOF claims 65535 x 65535 pixels (the most JPEG can say).</summary>
    public static string JpegHuge(string dir)
    {
        var d = File.ReadAllBytes(Jpeg);
        for (var i = 2; i < d.Length - 9;)
        {
            if (d[i] != 0xFF) throw new InvalidDataException("no SOF marker found");
            var marker = d[i + 1];
            var len = BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(i + 2));
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                BinaryPrimitives.WriteUInt16BigEndian(d.AsSpan(i + 5), 65535);
                BinaryPrimitives.WriteUInt16BigEndian(d.AsSpan(i + 7), 65535);
                return Bytes(dir, "huge.jpg", d);
            }
            i += 2 + len;
        }
        throw new InvalidDataException("no SOF marker found");
    }

    static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }

    // ---- Files written with LibTiff.NET / OpenCV ----

    /// <summary>An 8-bit palette TIFF: index = a gradient, colour map red ramp.</summary>
    public static string PaletteTiff(string dir, int w = 64, int h = 48)
    {
        var path = Path.Combine(dir, "palette.tif");
        using var tif = Tiff.Open(path, "w")!;
        tif.SetField(TiffTag.IMAGEWIDTH, w);
        tif.SetField(TiffTag.IMAGELENGTH, h);
        tif.SetField(TiffTag.BITSPERSAMPLE, 8);
        tif.SetField(TiffTag.SAMPLESPERPIXEL, 1);
        tif.SetField(TiffTag.PHOTOMETRIC, Photometric.PALETTE);
        tif.SetField(TiffTag.PLANARCONFIG, PlanarConfig.CONTIG);
        tif.SetField(TiffTag.ROWSPERSTRIP, h);
        var r = new ushort[256]; var g = new ushort[256]; var b = new ushort[256];
        for (var i = 0; i < 256; i++) { r[i] = (ushort)(i * 257); g[i] = 0; b[i] = (ushort)((255 - i) * 257); }
        tif.SetField(TiffTag.COLORMAP, r, g, b);
        for (var y = 0; y < h; y++)
        {
            var row = new byte[w];
            for (var x = 0; x < w; x++) row[x] = (byte)((x * 4 + y) % 256);
            tif.WriteScanline(row, y);
        }
        return path;
    }

    /// <summary>A 32-bit float gray TIFF from a smooth pattern, with <paramref name="poison"/> at one pixel (NaN, +Inf...).</summary>
    public static string FloatTiff(string dir, string name, float? poison, int w = 64, int h = 64)
    {
        var path = Path.Combine(dir, name);
        using var tif = Tiff.Open(path, "w")!;
        tif.SetField(TiffTag.IMAGEWIDTH, w);
        tif.SetField(TiffTag.IMAGELENGTH, h);
        tif.SetField(TiffTag.BITSPERSAMPLE, 32);
        tif.SetField(TiffTag.SAMPLESPERPIXEL, 1);
        tif.SetField(TiffTag.SAMPLEFORMAT, SampleFormat.IEEEFP);
        tif.SetField(TiffTag.PHOTOMETRIC, Photometric.MINISBLACK);
        tif.SetField(TiffTag.PLANARCONFIG, PlanarConfig.CONTIG);
        tif.SetField(TiffTag.ROWSPERSTRIP, h);
        for (var y = 0; y < h; y++)
        {
            var row = new float[w];
            for (var x = 0; x < w; x++) row[x] = MathF.Sin(x * 0.3f) * MathF.Cos(y * 0.2f);
            if (poison is { } p && y == h / 2) row[w / 3] = p;
            var bytes = new byte[w * 4];
            Buffer.BlockCopy(row, 0, bytes, 0, bytes.Length);
            tif.WriteScanline(bytes, y);
        }
        return path;
    }

    /// <summary>A 16-bit gray BigTIFF (the 64-bit variant used for large microscopy stacks), <paramref name="pages"/> pages.</summary>
    public static string BigTiff(string dir, int pages = 2, int w = 40, int h = 30)
    {
        var path = Path.Combine(dir, "big.tif");
        using var tif = Tiff.Open(path, "w8")!;
        for (var p = 0; p < pages; p++)
        {
            tif.SetField(TiffTag.IMAGEWIDTH, w);
            tif.SetField(TiffTag.IMAGELENGTH, h);
            tif.SetField(TiffTag.BITSPERSAMPLE, 16);
            tif.SetField(TiffTag.SAMPLESPERPIXEL, 1);
            tif.SetField(TiffTag.PHOTOMETRIC, Photometric.MINISBLACK);
            tif.SetField(TiffTag.PLANARCONFIG, PlanarConfig.CONTIG);
            tif.SetField(TiffTag.ROWSPERSTRIP, h);
            tif.SetField(TiffTag.SUBFILETYPE, FileType.PAGE);
            tif.SetField(TiffTag.PAGENUMBER, p, pages);
            for (var y = 0; y < h; y++)
            {
                var row = new byte[w * 2];
                for (var x = 0; x < w; x++) BinaryPrimitives.WriteUInt16LittleEndian(row.AsSpan(2 * x), (ushort)(1000 * p + 10 * x + y));
                tif.WriteScanline(row, y);
            }
            tif.WriteDirectory();
        }
        return path;
    }

    /// <summary>A PNG written by OpenCV from <paramref name="mat"/>.</summary>
    public static string Png(string dir, string name, Mat mat)
    {
        var path = Path.Combine(dir, name);
        if (!Cv2.ImWrite(path, mat)) throw new IOException($"OpenCV could not write {path}");
        return path;
    }

    /// <summary>A 4-channel (BGRA) 8-bit PNG: a gradient with a varying alpha.</summary>
    public static string RgbaPng(string dir, int w = 80, int h = 60)
    {
        using var m = new Mat(h, w, MatType.CV_8UC4);
        for (var y = 0; y < h; y++)
        for (var x = 0; x < w; x++)
            m.Set(y, x, new Vec4b((byte)(x * 3), (byte)(y * 4), (byte)((x + y) % 256), (byte)(255 - x)));
        return Png(dir, "rgba.png", m);
    }

    public static string OnePixel(string dir)
    {
        using var m = new Mat(1, 1, MatType.CV_8UC1, new Scalar(77));
        return Png(dir, "one-pixel.png", m);
    }

    /// <summary>A real image cropped to <paramref name="side"/> pixels square (smaller than a chunk).</summary>
    public static string SmallCrop(string dir, int side = 20)
    {
        using var src = Cv2.ImRead(Png8, ImreadModes.Unchanged);
        using var crop = new Mat(src, new Rect(100, 100, side, side));
        return Png(dir, $"small-{side}px.png", crop.Clone());
    }

    public static string Constant(string dir, byte value = 128, int side = 96)
    {
        using var m = new Mat(side, side, MatType.CV_8UC1, new Scalar(value));
        return Png(dir, "constant.png", m);
    }
}
