using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using static TorchSharp.torch;

namespace Hypha.Imaging;

/// <summary>
/// Writes images of one size into one multi-page TIFF that Fiji/ImageJ opens as a stack: baseline TIFF 6.0,
/// little-endian, uncompressed, one strip per plane, every plane's pixels one after another from byte 8, then one
/// directory per plane, the first carrying ImageJ's own ImageDescription (<see cref="Description"/>). ImageJ reads
/// only that first directory of a file whose description says <c>images=N</c> and takes the N planes to lie
/// contiguously from its strip, so the layout must be exactly this; LibTiff (and OpenCV through it) puts each
/// directory between one page's pixels and the next's, which ImageJ then reads shifted by a directory per slice. Other
/// readers (LibTiff.NET, OpenCV, tifffile) follow the directories, which point into the same bytes. Gray images give
/// one plane each (a stack of N slices); 8-bit RGB images one RGB plane each (an RGB stack); 16-bit RGB images three
/// gray planes each, described as a 3-channel composite hyperstack of N slices, since ImageJ has no 16-bit RGB type.
/// Streams: planes are written as they are added, the directories when the stack is finished (until then the bytes
/// are no valid TIFF, so write through a temporary file: <see cref="Runs.AtomicFile.Begin"/>). Onto any seekable
/// stream, which the caller owns.
/// </summary>
public sealed class TiffStackWriter
{
    /// <summary>The largest stack written: classic TIFF addresses 4 GiB, and ImageJ's own opener reads no BigTIFF.</summary>
    public const long MaxBytes = (1L << 32) - (64L << 20);

    readonly Stream _stream;
    readonly long _origin;
    readonly int _images, _channels, _width, _height, _bits;
    int _planes;

    /// <summary>Images added so far.</summary>
    public int Written { get; private set; }

    /// <param name="stream">A writable, seekable stream, written from its current position; left open.</param>
    /// <param name="images">The number of images the stack will hold (ImageJ's description states it on the first page).</param>
    /// <param name="channels">1 (gray) or 3 (RGB).</param>
    /// <param name="bits">8 or 16.</param>
    public TiffStackWriter(Stream stream, int images, int channels, int width, int height, int bits)
    {
        if (images < 1) throw new ArgumentOutOfRangeException(nameof(images), images, "at least one image");
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "1 or 3");
        if (bits is not (8 or 16)) throw new ArgumentOutOfRangeException(nameof(bits), bits, "8 or 16");
        if (!stream.CanSeek || !stream.CanWrite) throw new ArgumentException("a TIFF stack needs a writable, seekable stream", nameof(stream));
        Check(images, channels, width, height, bits);
        (_stream, _images, _channels, _width, _height, _bits) = (stream, images, channels, width, height, bits);
        _origin = stream.Position;
        // "II", 42, and the first directory's offset, filled in by Finish.
        stream.Write([(byte)'I', (byte)'I', 42, 0, 0, 0, 0, 0]);
    }

    /// <summary>A configuration error when the stack would not fit in <see cref="MaxBytes"/> (writers check before any work).</summary>
    public static void Check(int images, int channels, int width, int height, int bits)
    {
        var bytes = Bytes(images, channels, width, height, bits);
        if (bytes > MaxBytes)
            throw HyphaException.Config($"--format tiff-stack: {images:N0} {width}x{height} {bits}-bit image(s) would take {bytes / (double)(1L << 30):F1} GiB, " +
                                        "over the 4 GiB a TIFF stack can hold: write fewer images, or one file each (png8, tiff16)");
    }

    /// <summary>The stack's size on disk, near enough (pixels plus one directory per plane).</summary>
    public static long Bytes(int images, int channels, int width, int height, int bits) =>
        (long)images * channels * width * height * (bits / 8) + (long)images * (channels == 3 && bits == 16 ? 3 : 1) * 256 + 1024;

    /// <summary>
    /// ImageJ's description of a stack of <paramref name="images"/> slices: <c>ImageJ=1.11a</c> (the version tifffile
    /// writes for compatibility), <c>images</c> (planes), <c>channels</c> and <c>hyperstack</c> for 16-bit RGB,
    /// <c>slices</c>, <c>loop=false</c>, and for 16 bits the display range 0..65535 (values are 0-1 x 65535, so the
    /// stack looks as the 8-bit one does instead of being stretched per slice).
    /// </summary>
    public static string Description(int images, int channels, int bits)
    {
        var planar = channels == 3 && bits == 16;
        var d = new StringBuilder("ImageJ=1.11a\n");
        d.Append(CultureInfo.InvariantCulture, $"images={images * (planar ? 3 : 1)}\n");
        if (planar) d.Append("channels=3\n");
        d.Append(CultureInfo.InvariantCulture, $"slices={images}\n");
        if (planar) d.Append("hyperstack=true\nmode=composite\n");
        d.Append("loop=false\n");
        if (bits == 16) d.Append("min=0.0\nmax=65535.0\n");
        return d.ToString();
    }

    bool Planar => _channels == 3 && _bits == 16;
    int PlaneSamples => Planar ? 1 : _channels;
    long PlaneBytes => (long)_width * _height * PlaneSamples * (_bits / 8);

    /// <summary>Adds the next image, [C, H, W] in [0, 1] (clamped), quantized as <see cref="ImageEncoding.Pixels(Tensor, int)"/> does.</summary>
    public void Add(Tensor chw)
    {
        if (chw.shape[0] != _channels || chw.shape[1] != _height || chw.shape[2] != _width)
            throw new ArgumentException($"image of shape [{string.Join(", ", chw.shape)}] in a stack of [{_channels}, {_height}, {_width}]", nameof(chw));
        Add(ImageEncoding.Pixels(chw, _bits));
    }

    /// <summary>Adds the next image as its <see cref="ImageEncoding.Pixels(Tensor, int)"/> (HWC, of the stack's bit depth).</summary>
    public void Add(byte[] pixels)
    {
        if (Written == _images) throw new InvalidOperationException($"the stack was opened for {_images} image(s)");
        var bytes = _bits / 8;
        if (pixels.Length != _width * _height * _channels * bytes)
            throw new ArgumentException($"{pixels.Length} bytes are not a {_width}x{_height}x{_channels} {_bits}-bit image", nameof(pixels));
        if (Planar)
        {
            // ImageJ's composite hyperstack: the red, green and blue planes one after another.
            var plane = new byte[_width * _height * bytes];
            for (var c = 0; c < 3; c++)
            {
                for (var p = 0; p < _width * _height; p++)
                    for (var b = 0; b < bytes; b++) plane[p * bytes + b] = pixels[(p * 3 + c) * bytes + b];
                _stream.Write(plane);
            }
        }
        else _stream.Write(pixels);
        _planes += Planar ? 3 : 1;
        Written++;
    }

    /// <summary>Writes the directories and ends the file; every image the stack was opened for must have been added.</summary>
    public void Finish()
    {
        if (Written != _images) throw new InvalidOperationException($"{Written} of the stack's {_images} image(s) were added");
        var first = _stream.Position - _origin;
        if (first % 2 == 1) { _stream.WriteByte(0); first++; } // directories start on a word boundary
        var description = Encoding.ASCII.GetBytes(Description(_images, _channels, _bits) + "\0");
        var samples = PlaneSamples;
        var offset = first;
        for (var p = 0; p < _planes; p++)
        {
            // Tags in ascending order; values of more than 4 bytes (the description, 3 bits-per-sample) follow the entries.
            var entries = new List<(ushort Tag, ushort Type, uint Count, uint Value)>
            {
                (254, Long, 1, 0),                                   // NewSubfileType: a full-resolution page
                (256, Long, 1, (uint)_width),                        // ImageWidth
                (257, Long, 1, (uint)_height),                       // ImageLength
                (258, Short, (uint)samples, (uint)_bits),            // BitsPerSample
                (259, Short, 1, 1),                                  // Compression: none
                (262, Short, 1, samples == 3 ? 2u : 1u),             // PhotometricInterpretation: RGB or BlackIsZero
            };
            if (p == 0) entries.Add((270, Ascii, (uint)description.Length, 0)); // ImageDescription
            entries.AddRange(
            [
                (273, Long, 1, (uint)(8 + p * PlaneBytes)),          // StripOffsets
                (277, Short, 1, (uint)samples),                      // SamplesPerPixel
                (278, Long, 1, (uint)_height),                       // RowsPerStrip
                (279, Long, 1, (uint)PlaneBytes),                    // StripByteCounts
                (284, Short, 1, 1),                                  // PlanarConfiguration: contiguous
                (339, Short, (uint)samples, 1),                      // SampleFormat: unsigned integer
            ]);
            var size = 2 + entries.Count * 12 + 4;
            var extra = new List<byte>();
            var ifd = new byte[size];
            BinaryPrimitives.WriteUInt16LittleEndian(ifd, (ushort)entries.Count);
            for (var e = 0; e < entries.Count; e++)
            {
                var (tag, type, count, value) = entries[e];
                var at = ifd.AsSpan(2 + e * 12);
                BinaryPrimitives.WriteUInt16LittleEndian(at, tag);
                BinaryPrimitives.WriteUInt16LittleEndian(at[2..], type);
                BinaryPrimitives.WriteUInt32LittleEndian(at[4..], count);
                byte[] data = tag == 270 ? description
                    : type == Short ? Enumerable.Repeat((ushort)value, (int)count).SelectMany(v => BitConverter.GetBytes(v)).ToArray()
                    : BitConverter.GetBytes(value);
                if (data.Length <= 4) data.CopyTo(at[8..]); // short values sit left-justified in the field
                else
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(at[8..], (uint)(offset + size + extra.Count));
                    extra.AddRange(data);
                    if (extra.Count % 2 == 1) extra.Add(0);
                }
            }
            var next = offset + size + extra.Count;
            BinaryPrimitives.WriteUInt32LittleEndian(ifd.AsSpan(size - 4), p == _planes - 1 ? 0u : (uint)next);
            _stream.Write(ifd);
            _stream.Write(extra.ToArray());
            offset = next;
        }
        var end = _stream.Position;
        _stream.Position = _origin + 4;
        Span<byte> head = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(head, (uint)first);
        _stream.Write(head);
        _stream.Position = end;
        _stream.Flush();
    }

    const ushort Short = 3, Long = 4, Ascii = 2;
}
