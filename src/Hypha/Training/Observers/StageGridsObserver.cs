using Hypha.Imaging;
using Hypha.Models;
using Hypha.Reporting;
using Hypha.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Training.Observers;

/// <summary>
/// For progressive models only (others are ignored): after each epoch, one fixed validation chunk's reconstruction
/// and one sample from a fixed latent at the current stage's resolution are written to
/// grids/stages/stage{s}_reconstruction.png and grids/stages/stage{s}_sample.png (the last epoch of a stage wins; the
/// files survive a resume), then grids/stages.png shows every stage so far side by side, each enlarged to the chunk
/// size by nearest neighbour: top row the reconstructions and, last, the original; bottom row the samples. Mirrored
/// to TensorBoard as grids/stages.
/// </summary>
public sealed class StageGridsObserver(TensorBoardObserver? tensorBoard = null) : ITrainingObserver
{
    public void OnStart(TrainingContext context, CheckpointHeader? resumedFrom) { }
    public void OnMetrics(MetricsRow row) { }

    public void OnEpochEnd(int epoch, TrainingContext context)
    {
        if (context.Model.As<IProgressiveModel>() is not { } model || context.Model.As<IEncoderModel>() is not { } encoder) return;
        var val = context.Index.Validation;
        if (val.Count == 0) return;
        using var scope = NewDisposeScope();
        var dir = Path.Combine(context.Run.GridsDir, "stages");
        Directory.CreateDirectory(dir);
        var chunk = context.Bank.Cut([val[val.Count / 2]]);
        var original = chunk.to(CPU);
        var x = ModelInput.Fit(model, chunk);
        var recon = VaeMath.Reconstruct(encoder, x).to(CPU);
        var sample = model.Sample(new SampleRequest(1, context.Config.Train.Seed + 12345) { Device = context.Device });
        var stage = model.Stage;
        Write(Path.Combine(dir, $"stage{stage}_reconstruction.png"), recon[0]);
        Write(Path.Combine(dir, $"stage{stage}_sample.png"), sample[0]);

        var grid = Compose(dir, model.Stages, original[0]);
        AtomicFile.WriteAllBytes(Path.Combine(context.Run.GridsDir, "stages.png"), ImageEncoding.Encode(grid, ImageFormat.Png8));
        tensorBoard?.AddImage("grids/stages", grid);
    }

    /// <summary>The two rows (reconstructions then the original; samples) of the stage images found in <paramref name="dir"/>,
    /// as [C, H, W]; stages without an image yet are left white.</summary>
    public static Tensor Compose(string dir, int stages, Tensor original)
    {
        using var scope = NewDisposeScope();
        int c = (int)original.shape[0], size = (int)original.shape[^1];
        var tiles = new List<Tensor>();
        foreach (var kind in new[] { "reconstruction", "sample" })
        {
            for (var s = 0; s < stages; s++) tiles.Add(Load(Path.Combine(dir, $"stage{s}_{kind}.png"), c, size));
            tiles.Add(kind == "reconstruction" ? original.to_type(ScalarType.Float32) : ones(c, size, size));
        }
        return ImageGrid.Tile(stack(tiles), columns: stages + 1).MoveToOuterDisposeScope();
    }

    static Tensor Load(string path, int channels, int size)
    {
        if (!File.Exists(path)) return ones(channels, size, size);
        var image = ImageReader.Read(path)[0];
        var t = tensor(image.Pixels).view(image.Channels, image.Height, image.Width) / 255f;
        if (image.Channels != channels) t = image.Channels == 1 ? t.expand(channels, -1, -1) : t.mean([0], keepdim: true);
        return nn.functional.interpolate(t.unsqueeze(0), [size, size], mode: InterpolationMode.Nearest)[0];
    }

    static void Write(string path, Tensor chw) => AtomicFile.WriteAllBytes(path, ImageEncoding.Encode(chw, ImageFormat.Png8));

    public void Dispose() { }
}
