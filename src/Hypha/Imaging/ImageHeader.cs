using System.Buffers.Binary;
using System.Text;
using BitMiracle.LibTiff.Classic;

namespace Hypha.Imaging;

/// <summary>Container formats Hypha reads, recognized by their magic number (not by the file name).</summary>
public enum ImageContainer { Png, Jpeg, Tiff }

/// <summary>One page's size and samples as its header states them.</summary>
/// <param name="Samples">Samples per pixel on disk: 1 gray, 2 gray + alpha, 3 RGB (and palette, which is read as RGB), 4 RGBA or CMYK.</param>
/// <param name="BitsPerSample">Bits per sample on disk (1 to 64).</param>
public sealed record PageShape(long Width, long Height, int Samples, int BitsPerSample)
{
    public long Pixels => Width * Height;
}

/// <summary>What the file's structure says before any pixel is decoded.</summary>
/// <param name="Pages">Pages (TIFF directories); 1 for PNG and JPEG.</param>
/// <param name="Width">Width of the largest page, from its header.</param>
/// <param name="Height">Height of the largest page, from its header.</param>
/// <param name="Shapes">Every page's size and samples, in page order (what <see cref="ImageMemory"/> estimates from).</param>
public sealed record ImageHeaderInfo(ImageContainer Container, int Pages, long Width, long Height, IReadOnlyList<PageShape> Shapes);

/// <summary>
/// Checks a file's structure without decoding pixels, so that problems OpenCV would hide or report badly get a clear
/// message: a text file named .png, a JPEG or PNG cut short (OpenCV returns a partly grey image for a truncated
/// JPEG and only warns on stderr), TIFF pages lost to truncation (OpenCV silently returns the pages before the cut),
/// missing or broken TIFF tags, and headers claiming more than <see cref="ImageReader.MaxPixels"/> pixels (refused
/// before anything is allocated). PNG and JPEG are checked by walking their chunk/segment lengths and reading the
/// size fields of IHDR/SOF; TIFF tags are read with LibTiff.NET. Decoding stays with OpenCV.
/// </summary>
public static class ImageHeader
{
    static readonly byte[] PngMagic = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Inspects <paramref name="path"/>; throws <see cref="HyphaException"/> (BadInput) naming the file and the problem.</summary>
    public static ImageHeaderInfo Inspect(string path)
    {
        FileStream fs;
        try
        {
            fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw HyphaException.Input(path, $"cannot be opened ({e.Message.TrimEnd('.')})", e);
        }
        using var _ = fs;
        var head = new byte[8];
        var n = fs.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        fs.Position = 0;
        try
        {
            return Inspect(path, fs, head, n);
        }
        catch (EndOfStreamException)
        {
            throw HyphaException.Input(path, $"the file is truncated: it ends at byte {fs.Length:N0}, inside its header");
        }
    }

    static ImageHeaderInfo Inspect(string path, FileStream fs, byte[] head, int n)
    {
        ImageHeaderInfo info;
        if (n >= 8 && head.AsSpan().SequenceEqual(PngMagic)) info = Png(path, fs);
        else if (n >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF) info = Jpeg(path, fs);
        // Classic TIFF (42) and BigTIFF (43), little- or big-endian.
        else if (n >= 4 && ((head[0] == 'I' && head[1] == 'I' && head[2] is 42 or 43 && head[3] == 0) || (head[0] == 'M' && head[1] == 'M' && head[2] == 0 && head[3] is 42 or 43)))
        {
            fs.Dispose();
            info = Tiff(path);
        }
        else
            throw HyphaException.Input(path, $"is not a PNG, JPEG or TIFF image (no known signature; it starts with {Describe(head.AsSpan(0, n))})");
        return info;
    }

    /// <summary>Refuses a page whose header claims more than <see cref="ImageReader.MaxPixels"/> pixels, naming the size.</summary>
    static void CheckSize(string path, string what, long w, long h)
    {
        if (w < 1 || h < 1) throw HyphaException.Input(path, $"{what} has an invalid size of {w} x {h} pixels in its header");
        if (w > ImageReader.MaxPixels || h > ImageReader.MaxPixels || w * h > ImageReader.MaxPixels) // sides first: no overflow
            throw HyphaException.Input(path, $"{what} header claims {w} x {h} pixels ({(decimal)w * h:N0}), more than the limit of {ImageReader.MaxPixels:N0}; " +
                                             "refused before reading (the file is corrupt, or the image must be tiled first)");
    }

    static string Describe(ReadOnlySpan<byte> head)
    {
        if (head.Length == 0) return "nothing";
        var printable = head.ToArray().All(b => b is >= 0x20 and < 0x7F or (byte)'\n' or (byte)'\r' or (byte)'\t');
        return printable ? $"\"{Encoding.ASCII.GetString(head).ReplaceLineEndings(" ")}\", text"
            : "bytes " + Convert.ToHexString(head);
    }

    static HyphaException Truncated(string path, string format, string where, long length) =>
        HyphaException.Input(path, $"the {format} is truncated: {where}, but the file ends at byte {length:N0} (cut short while copying or writing?)");

    // PNG: 8-byte signature, then chunks of length (4, big-endian), type (4), data, CRC (4); IHDR first, IEND last.
    static ImageHeaderInfo Png(string path, FileStream fs)
    {
        long length = fs.Length, pos = 8;
        var buf = new byte[8];
        long w = -1, h = -1;
        int samples = 1, bits = 8;
        while (true)
        {
            if (pos + 8 > length) throw Truncated(path, "PNG", $"the next chunk header was expected at byte {pos:N0}", length);
            fs.Position = pos;
            fs.ReadExactly(buf);
            var len = BinaryPrimitives.ReadUInt32BigEndian(buf);
            var type = Encoding.ASCII.GetString(buf, 4, 4);
            if (len > int.MaxValue || !type.All(char.IsAsciiLetter))
                throw HyphaException.Input(path, $"the PNG is corrupt: a chunk at byte {pos:N0} has an invalid type or length");
            var end = pos + 12 + len;
            if (end > length) throw Truncated(path, "PNG", $"its {type} chunk at byte {pos:N0} needs {len:N0} bytes of data", length);
            if (pos == 8)
            {
                if (type != "IHDR" || len < 8) throw HyphaException.Input(path, "the PNG is corrupt: it does not start with an IHDR chunk");
                fs.ReadExactly(buf);
                (w, h) = (BinaryPrimitives.ReadUInt32BigEndian(buf), BinaryPrimitives.ReadUInt32BigEndian(buf.AsSpan(4)));
                CheckSize(path, "the PNG", w, h);
                if (len >= 10)
                {
                    // Bit depth and colour type: 0 gray, 2 RGB, 3 palette (read as RGB), 4 gray + alpha, 6 RGBA.
                    bits = fs.ReadByte();
                    samples = fs.ReadByte() switch { 2 or 3 => 3, 4 => 2, 6 => 4, _ => 1 };
                    if (bits < 8) bits = 8; // OpenCV widens 1-, 2- and 4-bit samples to bytes
                }
            }
            if (type == "IEND") return new ImageHeaderInfo(ImageContainer.Png, 1, w, h, [new PageShape(w, h, samples, bits)]);
            pos = end;
        }
    }

    // JPEG: markers FF xx; most carry a 2-byte big-endian length; SOS is followed by entropy-coded data in which FF is
    // stuffed as FF 00, so the next marker is the next FF not followed by 00 or a restart marker (D0-D7). EOI (FF D9) ends it.
    static ImageHeaderInfo Jpeg(string path, FileStream fs)
    {
        long length = fs.Length;
        using var s = new BufferedStream(fs, 1 << 16);
        s.Position = 2;
        long w = -1, h = -1;
        int components = 3;
        int ReadByte(string where)
        {
            var b = s.ReadByte();
            if (b < 0) throw Truncated(path, "JPEG", where, length);
            return b;
        }
        var afterScan = false;
        while (true)
        {
            int marker;
            if (afterScan)
            {
                // Scan entropy-coded data for the next real marker.
                while (true)
                {
                    if (ReadByte("its image data has no end-of-image marker") != 0xFF) continue;
                    int m;
                    do m = ReadByte("its image data has no end-of-image marker"); while (m == 0xFF);
                    if (m == 0x00 || m is >= 0xD0 and <= 0xD7) continue;
                    marker = m;
                    break;
                }
            }
            else
            {
                var at = s.Position;
                if (ReadByte($"a marker was expected at byte {at:N0}") != 0xFF)
                    throw HyphaException.Input(path, $"the JPEG is corrupt: no marker at byte {at:N0} where one should start");
                do marker = ReadByte($"a marker was expected at byte {at:N0}"); while (marker == 0xFF);
            }
            if (marker == 0xD9)
            {
                if (w < 0) throw HyphaException.Input(path, "the JPEG is corrupt: it ends before any frame header (SOF) gives its size");
                return new ImageHeaderInfo(ImageContainer.Jpeg, 1, w, h, [new PageShape(w, h, components == 1 ? 1 : 3, 8)]);
            }
            if (marker is >= 0xD0 and <= 0xD7 or 0x01) continue;
            var segAt = s.Position - 2;
            int len = (ReadByte("a segment length was cut") << 8) | ReadByte("a segment length was cut");
            if (len < 2) throw HyphaException.Input(path, $"the JPEG is corrupt: a segment at byte {segAt:N0} has length {len}");
            if (s.Position + len - 2 > length) throw Truncated(path, "JPEG", $"the segment FF{marker:X2} at byte {segAt:N0} needs {len - 2:N0} more bytes", length);
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC && len >= 7)
            {
                ReadByte("");
                h = (ReadByte("") << 8) | ReadByte("");
                w = (ReadByte("") << 8) | ReadByte("");
                components = ReadByte("");
                CheckSize(path, "the JPEG", w, h);
                s.Position = segAt + 2 + len;
            }
            else s.Position += len - 2;
            if (marker == 0xDA)
            {
                if (w < 0) throw HyphaException.Input(path, "the JPEG is corrupt: image data starts before any frame header (SOF)");
                afterScan = true;
            }
        }
    }

    // TIFF: tags through LibTiff.NET (its error handler collects what libtiff complains about).
    static ImageHeaderInfo Tiff(string path)
    {
        try
        {
            return TiffTags(path);
        }
        catch (Exception e) when (e is not HyphaException)
        {
            // LibTiff.NET throws (overflow, index out of range...) on some corrupt directories instead of reporting them.
            throw HyphaException.Input(path, $"the TIFF is corrupt: its directory cannot be parsed ({e.GetType().Name}: {e.Message})", e);
        }
    }

    static ImageHeaderInfo TiffTags(string path)
    {
        var length = new FileInfo(path).Length;
        using var errors = TiffErrors.Capture();
        using var tif = BitMiracle.LibTiff.Classic.Tiff.Open(path, "r");
        if (tif is null)
        {
            var detail = errors.Text("no detail", path);
            // libtiff's words for a missing or zero ImageWidth tag; say it in the tag's name.
            if (detail.Contains("zero scanline size")) detail += "; the ImageWidth or BitsPerSample tag is missing or 0";
            throw HyphaException.Input(path, $"the TIFF is corrupt: its first directory cannot be read ({detail})");
        }
        int pages = 0;
        long maxW = 0, maxH = 0;
        var shapes = new List<PageShape>();
        do
        {
            var page = $"page {pages}";
            long w = Field(tif, TiffTag.IMAGEWIDTH) ?? throw Missing(path, page, "ImageWidth");
            long h = Field(tif, TiffTag.IMAGELENGTH) ?? throw Missing(path, page, "ImageLength");
            CheckSize(path, $"{page} of the TIFF", w, h);
            var bits = Field(tif, TiffTag.BITSPERSAMPLE) ?? 1;
            if (bits is not (1 or 2 or 4 or 8 or 16 or 32 or 64))
                throw HyphaException.Input(path, $"{page} of the TIFF has {bits} bits per sample, which is not a valid sample size (1, 8, 16, 32 or 64)");
            var tiled = tif.IsTiled();
            var (offTag, countTag, offName) = tiled
                ? (TiffTag.TILEOFFSETS, TiffTag.TILEBYTECOUNTS, "TileOffsets")
                : (TiffTag.STRIPOFFSETS, TiffTag.STRIPBYTECOUNTS, "StripOffsets");
            var offsets = tif.GetField(offTag)?[0].TolongArray() ?? throw Missing(path, page, offName);
            var counts = tif.GetField(countTag)?[0].TolongArray();
            if (counts is not null)
                for (var i = 0; i < Math.Min(offsets.Length, counts.Length); i++)
                    if (offsets[i] + counts[i] > length)
                        throw Truncated(path, "TIFF", $"{page}'s pixel data ({(tiled ? "tile" : "strip")} {i}) runs past the end, to byte {offsets[i] + counts[i]:N0}", length);
            (maxW, maxH) = w * h > maxW * maxH ? (w, h) : (maxW, maxH);
            var spp = (int)(Field(tif, TiffTag.SAMPLESPERPIXEL) ?? 1);
            if (Field(tif, TiffTag.PHOTOMETRIC) == (long)Photometric.PALETTE) spp = 3; // read through its colour map as RGB
            shapes.Add(new PageShape(w, h, Math.Max(1, spp), (int)Math.Max(8, bits)));
            pages++;
            errors.Clear();
        } while (tif.ReadDirectory());
        if (errors.Any)
            throw HyphaException.Input(path, $"the TIFF is truncated or corrupt: the directory of page {pages} cannot be read ({errors.Text("", path)}); only {pages} page(s) are whole");
        return new ImageHeaderInfo(ImageContainer.Tiff, pages, maxW, maxH, shapes);
    }

    static HyphaException Missing(string path, string page, string tag) =>
        HyphaException.Input(path, $"{page} of the TIFF lacks the required {tag} tag (the file is corrupt or was written by a broken tool)");

    static long? Field(BitMiracle.LibTiff.Classic.Tiff tif, TiffTag tag)
    {
        var v = tif.GetField(tag);
        return v is { Length: > 0 } ? v[0].ToLong() : null;
    }

    /// <summary>Collects LibTiff.NET's error messages for the current thread (its handler is process-wide).</summary>
    sealed class TiffErrors : TiffErrorHandler, IDisposable
    {
        [ThreadStatic] static List<string>? _messages;
        static readonly TiffErrors Handler = new();
        static readonly object Gate = new();
        static bool _installed;

        public static TiffErrors Capture()
        {
            lock (Gate)
            {
                if (!_installed) { BitMiracle.LibTiff.Classic.Tiff.SetErrorHandler(Handler); _installed = true; }
            }
            _messages = [];
            return Handler;
        }

        public bool Any => _messages is { Count: > 0 };
        public void Clear() => _messages?.Clear();
        /// <summary>The messages so far, without the file name libtiff puts in front (the caller names the file once).</summary>
        public string Text(string fallback, string path) =>
            _messages is { Count: > 0 } m ? string.Join("; ", m.Select(x => x.Replace(path + ": ", "")).Distinct()) : fallback;

        public override void ErrorHandler(BitMiracle.LibTiff.Classic.Tiff tif, string method, string format, params object[] args) =>
            _messages?.Add(string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));

        public override void ErrorHandlerExt(BitMiracle.LibTiff.Classic.Tiff tif, object clientData, string method, string format, params object[] args) { }

        // Unknown private tags (ImageJ, MetaMorph ...) are common in microscopy files: not a problem.
        public override void WarningHandler(BitMiracle.LibTiff.Classic.Tiff tif, string method, string format, params object[] args) { }

        public override void WarningHandlerExt(BitMiracle.LibTiff.Classic.Tiff tif, object clientData, string method, string format, params object[] args) { }

        public void Dispose() => _messages = null;
    }
}
