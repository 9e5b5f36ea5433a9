// Hypha as a C# library: train a tiny VAE on microscopy images, sample from it, and export it for PyTorch.
//   dotnet run --project examples/TrainAndSample -- [IMAGES] [OUT]
// IMAGES: a folder, files or a glob (default: three synthetic example images drawn into OUT/images).
// OUT: a new folder for the run, the samples and the exported weights (default: a new folder under the temp folder).
using Hypha;
using Hypha.Imaging;
using Hypha.Models;

var output = args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), $"hypha-example-{Environment.ProcessId}");
var images = args.Length > 0 ? args[0] : Path.GetDirectoryName(SyntheticRoots.Write(Path.Combine(output, "images"))[0])!;

try
{
    // The cpu preset with a smaller network and a short epoch: seconds on a laptop, blurry samples.
    var request = new TrainRequest
    {
        Images = [images],
        Preset = "cpu",
        RunFolder = Path.Combine(output, "run"),
        Chunk = 32,
        Epochs = 2,
        EpochSize = 128,
        Configure = c => c with { Model = (VaeOptions)c.Model with { Width = 8, Latent = 16 }, Train = c.Train with { Batch = 16 } },
    };
    using var run = HyphaRun.Train(request, progress: p =>
    {
        if (p.Step == p.StepsPerEpoch) Console.WriteLine($"epoch {p.Epoch + 1}/{p.Epochs}: loss {p.Terms["loss"]:F1}, {p.ImagesPerSecond:F0} images/s");
    });
    Console.WriteLine($"trained {run.Training!.EpochsDone} epochs on {run.Training.ImagesSeen} chunks; validation PSNR {run.Training.LastValidation["psnr"]:F1} dB");

    // Samples in memory: [16, 1, 32, 32] in [0, 1]; the same seed gives the same images as `hypha sample --seed 7`.
    using var samples = run.Sample(16, seed: 7);
    Console.WriteLine($"sampled {samples.shape[0]} images of {samples.shape[2]}x{samples.shape[3]}, mean intensity {samples.mean().item<float>():F3}");

    // Samples on disk, and the weights for PyTorch (bench/pytorch/hypha_weights.py loads them).
    var files = run.SampleTo(Path.Combine(output, "samples"), count: 16, seed: 7);
    var export = run.Export(Path.Combine(output, "model.safetensors"));
    Console.WriteLine($"wrote {files.Count} PNGs to {Path.Combine(output, "samples")} and {export.Tensors} tensors to {export.File}");
    return 0;
}
catch (HyphaException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return (int)e.Code;
}
