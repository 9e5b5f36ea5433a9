using Hypha.Imaging;
using Hypha.Runs;
using static TorchSharp.torch;

namespace Hypha.Sampling;

/// <summary>
/// Where a writer puts a numbered sequence of images: one file each (<see cref="ImageFormat.Png8"/>,
/// <see cref="ImageFormat.Tiff16"/>), each written atomically and all flushed to disk at once on <see cref="Commit"/>
/// (which comes before the set's manifest is written), or one TIFF stack (<see cref="ImageFormat.TiffStack"/>,
/// <see cref="ImageFormat.TiffStack8"/>) written through a temporary file and renamed into place on
/// <see cref="Commit"/>. Both names are fixed before any image is made, so a manifest can list them first.
/// </summary>
public abstract class ImageSink : IDisposable
{
    /// <summary>Bits per sample of the sink's format: what <see cref="Add(int, byte[], int, int)"/> takes.</summary>
    public abstract int Bits { get; }

    /// <summary>
    /// A sink in <paramref name="folder"/> (relative to <paramref name="output"/>'s root, "" for the root itself):
    /// files <c>{stem}_{index:D6}.png/.tif</c>, or the stack <c>{stackName}.tif</c> of <paramref name="count"/> images of
    /// <paramref name="channels"/> x <paramref name="size"/> x <paramref name="size"/>.
    /// </summary>
    public static ImageSink Create(OutputFolder.Output output, string folder, string stem, string stackName, ImageFormat format,
        int count, int channels, int size) =>
        format.IsStack()
            ? new Stack(output, NameOf(folder, stem, stackName, format, 0).Path, format, count, channels, size)
            : new Files(output, folder, stem, format);

    /// <summary>The path (relative to the output folder, '/' separators) and stack page of image <paramref name="index"/>
    /// in the sink <see cref="Create"/> makes from the same names.</summary>
    public static (string Path, int? Page) NameOf(string folder, string stem, string stackName, ImageFormat format, int index) =>
        format.IsStack() ? (Rel(folder, stackName + format.Extension()), index) : (Rel(folder, $"{stem}_{index:D6}{format.Extension()}"), null);

    /// <summary>Writes image <paramref name="index"/>, [C, H, W] in [0, 1]; a stack takes indices in order from 0.</summary>
    public void Add(int index, Tensor chw) => Add(index, ImageEncoding.Pixels(chw, Bits), (int)chw.shape[0], (int)chw.shape[2]);

    /// <summary>Writes the images of a [N, C, S, S] batch as <paramref name="start"/>, <paramref name="start"/> + 1...,
    /// quantized in one pass (<see cref="ImageEncoding.BatchPixels"/>).</summary>
    public void AddBatch(int start, Tensor images)
    {
        var pixels = ImageEncoding.BatchPixels(images, Bits);
        for (var k = 0; k < pixels.Length; k++) Add(start + k, pixels[k], (int)images.shape[1], (int)images.shape[3]);
    }

    /// <summary>Writes image <paramref name="index"/> from its quantized pixels (<see cref="ImageEncoding.Pixels(Tensor, int)"/>
    /// at <see cref="Bits"/>) of <paramref name="channels"/> x <paramref name="size"/> x <paramref name="size"/>.</summary>
    public abstract void Add(int index, byte[] pixels, int channels, int size);

    /// <summary>Ends the sink: a stack is completed and renamed into place; files, already in place, are flushed to disk.</summary>
    public abstract void Commit();

    public virtual void Dispose() { }

    static string Rel(string folder, string name) => folder.Length == 0 ? name : $"{folder}/{name}";

    sealed class Files(OutputFolder.Output output, string folder, string stem, ImageFormat format) : ImageSink
    {
        public override int Bits => format.BitDepth();

        public override void Add(int index, byte[] pixels, int channels, int size)
        {
            var path = output.Claim(Path.Combine(output.Root, NameOf(folder, stem, "", format, index).Path));
            AtomicFile.WriteAllBytes(path, ImageEncoding.Encode(pixels, channels, size, size, format), durable: false);
        }

        /// <summary>One flush to disk for all the files, instead of one each.</summary>
        public override void Commit() => AtomicFile.SyncFileSystem(output.Root);
    }

    sealed class Stack : ImageSink
    {
        readonly string _name;
        readonly AtomicFile.Pending _file;
        readonly TiffStackWriter _writer;

        public Stack(OutputFolder.Output output, string name, ImageFormat format, int count, int channels, int size)
        {
            _name = name;
            Bits = format.BitDepth();
            var path = output.Claim(Path.Combine(output.Root, name));
            _file = AtomicFile.Begin(path);
            try
            {
                _writer = new TiffStackWriter(_file.Stream, count, channels, size, size, format.BitDepth());
            }
            catch
            {
                _file.Dispose();
                throw;
            }
        }

        public override int Bits { get; }

        public override void Add(int index, byte[] pixels, int channels, int size)
        {
            if (index != _writer.Written) throw new InvalidOperationException($"stack {_name}: image {index} added after {_writer.Written}");
            try
            {
                _writer.Add(pixels);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new HyphaException(ExitCode.OutputError, $"cannot write ({e.Message.TrimEnd('.')})", _file.Path, e);
            }
        }

        public override void Commit()
        {
            try
            {
                _writer.Finish();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new HyphaException(ExitCode.OutputError, $"cannot write ({e.Message.TrimEnd('.')})", _file.Path, e);
            }
            _file.Commit();
        }

        public override void Dispose() => _file.Dispose();
    }
}
