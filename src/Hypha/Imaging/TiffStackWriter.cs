using System.Globalization;
using System.Text;
using BitMiracle.LibTiff.Classic;
using static TorchSharp.torch;

namespace Hypha.Imaging;

/// <summary>
/// Writes images of one size into one multi-page TIFF that Fiji/ImageJ opens as a stack: uncompressed strips, one
/// directory per plane, and on the first directory ImageJ's own ImageDescription (<see cref="Description"/>), which
/// ImageJ reads to know the stack's layout. Gray images give one plane each (a stack of N slices); 8-bit RGB images
/// one RGB plane each (an RGB stack); 16-bit RGB images three gray planes each, described as a 3-channel composite
/// hyperstack of N slices, since ImageJ has no 16-bit RGB type. Through LibTiff.NET, onto any seekable stream.
/// </summary>
public sealed class TiffStackWriter : IDisposable
{
    /// <summary>The largest stack written: classic TIFF addresses 4 GiB, and ImageJ's own opener reads no BigTIFF.</summary>
    public const long MaxBytes = (1L << 32) - (64L << 20);

    readonly Tiff _tiff;
    readonly int _images, _channels, _width, _height, _bits;

    /// <summary>Images added so far.</summary>
    public int Written { get; private set; }

    /// <param name="stream">A writable, seekable stream; left open.</param>
    /// <param name="images">The number of images the stack will hold (ImageJ's description states it on the first page).</param>
    /// <param name="channels">1 (gray) or 3 (RGB).</param>
    /// <param name="bits">8 or 16.</param>
    public TiffStackWriter(Stream stream, int images, int channels, int width, int height, int bits)
    {
        if (images < 1) throw new ArgumentOutOfRangeException(nameof(images), images, "at least one image");
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "1 or 3");
        if (bits is not (8 or 16)) throw new ArgumentOutOfRangeException(nameof(bits), bits, "8 or 16");
        Check(images, channels, width, height, bits);
        (_images, _channels, _width, _height, _bits) = (images, channels, width, height, bits);
        _tiff = Tiff.ClientOpen("stack", "w", stream, new LeaveOpen())
                ?? throw new IOException("LibTiff.NET could not start a TIFF on the stream");
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

    /// <summary>Adds the next image, [C, H, W] in [0, 1] (clamped), quantized as <see cref="ImageEncoding.Pixels"/> does.</summary>
    public void Add(Tensor chw)
    {
        if (Written == _images) throw new InvalidOperationException($"the stack was opened for {_images} image(s)");
        if (chw.shape[0] != _channels || chw.shape[1] != _height || chw.shape[2] != _width)
            throw new ArgumentException($"image of shape [{string.Join(", ", chw.shape)}] in a stack of [{_channels}, {_height}, {_width}]", nameof(chw));
        if (_channels == 3 && _bits == 16)
            for (var c = 0; c < 3; c++)
            {
                using var plane = chw.narrow(0, c, 1);
                Page(ImageEncoding.Pixels(plane, _bits), 1);
            }
        else Page(ImageEncoding.Pixels(chw, _bits), _channels);
        Written++;
    }

    void Page(byte[] pixels, int samples)
    {
        _tiff.SetField(TiffTag.SUBFILETYPE, 0);
        _tiff.SetField(TiffTag.IMAGEWIDTH, _width);
        _tiff.SetField(TiffTag.IMAGELENGTH, _height);
        _tiff.SetField(TiffTag.BITSPERSAMPLE, _bits);
        _tiff.SetField(TiffTag.SAMPLESPERPIXEL, samples);
        _tiff.SetField(TiffTag.SAMPLEFORMAT, SampleFormat.UINT);
        _tiff.SetField(TiffTag.PHOTOMETRIC, samples == 3 ? Photometric.RGB : Photometric.MINISBLACK);
        _tiff.SetField(TiffTag.PLANARCONFIG, PlanarConfig.CONTIG);
        _tiff.SetField(TiffTag.COMPRESSION, Compression.NONE);
        _tiff.SetField(TiffTag.ROWSPERSTRIP, _height);
        if (_planes == 0) _tiff.SetField(TiffTag.IMAGEDESCRIPTION, Description(_images, _channels, _bits));
        if (_tiff.WriteEncodedStrip(0, pixels, pixels.Length) < 0) throw new IOException("LibTiff.NET could not write a TIFF strip");
        if (!_tiff.WriteDirectory()) throw new IOException("LibTiff.NET could not write a TIFF directory");
        _planes++;
    }

    int _planes;

    /// <summary>Ends the file; every image the stack was opened for must have been added.</summary>
    public void Finish()
    {
        if (Written != _images) throw new InvalidOperationException($"{Written} of the stack's {_images} image(s) were added");
        _tiff.Flush();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _tiff.Dispose();
    }

    bool _disposed;

    /// <summary>LibTiff.NET closes its stream when the TIFF is disposed; the caller owns this one (an atomic write flushes and renames it).</summary>
    sealed class LeaveOpen : TiffStream
    {
        public override void Close(object clientData) { }
    }
}
