using Hypha.Imaging;
using Hypha.Models;
using Hypha.Models.Layers;
using Hypha.Runs;
using Hypha.Sampling;
using Hypha.Tests.Training;
using Hypha.Training;
using static TorchSharp.torch;

namespace Hypha.Tests.Sampling;

public class SamplingTests
{
    [Fact]
    public void Decoding_in_batches_gives_contiguous_float32_images_whatever_the_compute_policy()
    {
        manual_seed(3);
        using var model = (IEncoderModel)ModelRegistry.Get("resnet_vae").Create(new VaeOptions { Width = 4, Latent = 8 }, 1, 32);
        Autocast.StoreChannelsLast(model.Module);
        using var z = VaeMath.PriorLatents(5, 8, seed: 1);
        using var whole = VaeMath.DecodeBatches(model, z, CPU, batch: 5);
        using (Autocast.Enter(ScalarType.BFloat16, channelsLast: true))
        {
            using var parts = VaeMath.DecodeBatches(model, z, CPU, batch: 2); // 2 + 2 + 1
            Assert.Equal(new long[] { 5, 1, 32, 32 }, parts.shape);
            Assert.Equal(ScalarType.Float32, parts.dtype);
            Assert.True(parts.is_contiguous());
            Assert.True((parts - whole).abs().max().item<float>() < 0.02f); // bf16 against fp32
        }
        Assert.Throws<ArgumentException>(() => VaeMath.DecodeBatches(model, z.narrow(0, 0, 0), CPU));
    }

    [Fact]
    public void SamplesAreWrittenSeededAndNeverOverwritten()
    {
        using var dir = new TempDir();
        var run = RunFolder.At(dir["run"]);
        SmallRuns.Train(run, SmallRuns.Tiny(epochs: 1));
        using var session = TrainingSession.OpenTrained(run);

        var files = SampleWriter.Write(session.Model, session.Device, 10, dir["a"], seed: 7, batch: 4);
        Assert.Equal(10, files.Count);
        Assert.True(File.Exists(Path.Combine(dir["a"], "grid.png")));
        var first = ImageReader.Read(files[0])[0];
        Assert.Equal((32, 32, 1), (first.Width, first.Height, first.Channels));

        // Same seed, other batch size: the same images.
        var again = SampleWriter.Write(session.Model, session.Device, 10, dir["b"], seed: 7, batch: 10);
        Assert.Equal(File.ReadAllBytes(files[9]), File.ReadAllBytes(again[9]));
        var other = SampleWriter.Write(session.Model, session.Device, 1, dir["c"], seed: 8);
        Assert.NotEqual(File.ReadAllBytes(files[0]), File.ReadAllBytes(other[0]));

        var e = Assert.Throws<HyphaException>(() => SampleWriter.Write(session.Model, session.Device, 3, dir["a"], seed: 1));
        Assert.Equal(ExitCode.OutputError, e.Code);
        Assert.Equal(10 + 2, Directory.GetFiles(dir["a"]).Length); // the samples, grid.png and manifest.csv

        var tiff = SampleWriter.Write(session.Model, session.Device, 2, dir["t"], seed: 7, format: ImageFormat.Tiff16);
        var t = ImageReader.Read(tiff[0])[0];
        Assert.Equal(16, t.BitDepth);
    }

    [Fact]
    public void ReconstructionsComeInNamedPairs()
    {
        using var dir = new TempDir();
        var run = RunFolder.At(dir["run"]);
        SmallRuns.Train(run, SmallRuns.Tiny(epochs: 1));
        using var session = TrainingSession.OpenTrained(run);
        var n = ReconstructionWriter.Write((IEncoderModel)session.Model, session.Bank, session.Data.Only(Hypha.Data.DataSplit.Test), dir["r"], limit: 12);
        Assert.Equal(12, n);
        for (var i = 0; i < 12; i++)
        {
            Assert.True(File.Exists(Path.Combine(dir["r"], $"{i:D6}_orig.png")));
            Assert.True(File.Exists(Path.Combine(dir["r"], $"{i:D6}_recon.png")));
        }
        Assert.True(File.Exists(Path.Combine(dir["r"], "grid_000.png")));
        Assert.Equal(13, File.ReadAllLines(Path.Combine(dir["r"], "chunks.csv")).Length);
    }
}
