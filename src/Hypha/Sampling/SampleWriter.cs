using Hypha.Imaging;
using Hypha.Models;
using Hypha.Reporting;
using Hypha.Runs;
using static TorchSharp.torch;

namespace Hypha.Sampling;

/// <summary>Writes synthetic chunks a model samples: <c>sample_000000.png</c>... and <c>grid.png</c> of the first 64.</summary>
public static class SampleWriter
{
    /// <param name="batch">Images generated at once; default 256.</param>
    /// <param name="settings">Family sampling options (steps, eta, sampler); default the model's own.</param>
    /// <param name="progress">Called with the number of images made so far.</param>
    /// <param name="stepProgress">Called after each denoising step of a batch with (steps done, steps per batch);
    /// see <see cref="SampleRequest.StepProgress"/>. Default none.</param>
    public static IReadOnlyList<string> Write(IGenerativeModel model, Device device, int count, string outDir, long seed,
        ImageFormat format = ImageFormat.Png8, int batch = 256, bool overwrite = false, Action<int>? progress = null,
        SamplerSettings? settings = null, Action<int, int>? stepProgress = null)
    {
        if (count < 1) throw HyphaException.Config($"--count must be at least 1 (got {count})");
        if (batch < 1) throw HyphaException.Config($"--batch must be at least 1 (got {batch})");
        settings ??= new SamplerSettings();
        using var output = OutputFolder.Begin(outDir, overwrite);
        var written = new List<string>(Math.Min(count, 1 << 16)); // not count: a huge --count must fail in the model, not here
        Tensor? gridImages = null;
        for (var i = 0; i < count; i += batch)
        {
            using var scope = NewDisposeScope();
            var start = i;
            var images = model.Sample(new SampleRequest(Math.Min(batch, count - i), seed)
            {
                Start = start, Batch = batch, Device = device, Settings = settings,
                Progress = k => progress?.Invoke(start + k), StepProgress = stepProgress,
            });
            for (var k = 0; k < images.shape[0]; k++)
            {
                var path = Path.Combine(outDir, $"sample_{i + k:D6}{format.Extension()}");
                AtomicFile.WriteAllBytes(path, ImageEncoding.Encode(images[k], format));
                written.Add(path);
            }
            gridImages ??= images.narrow(0, 0, Math.Min(64, images.shape[0])).MoveToOuterDisposeScope();
        }
        using (gridImages)
        using (var grid = ImageGrid.Tile(gridImages!, columns: 8))
            AtomicFile.WriteAllBytes(Path.Combine(outDir, "grid.png"), ImageEncoding.Encode(grid, ImageFormat.Png8));
        output.Commit();
        return written;
    }
}
