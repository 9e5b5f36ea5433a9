using System.CommandLine;
using System.Globalization;
using Hypha.Runs;
using Hypha.Sampling;
using Hypha.Torch;
using Hypha.Training;

namespace Hypha.Cli.Commands;

/// <summary><c>hypha synthesize</c>: whole images of any size from a run trained on chunks.</summary>
public static class SynthesizeCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "A trained run folder.", Required = true };
        var size = new Option<string>("--size") { Description = "Image size WIDTHxHEIGHT in pixels, each side at least the run's chunk (e.g. 512x512, or a source's 1688x1298).", Required = true };
        var count = new Option<int>("--count") { Description = "Images to write. Default: 1.", DefaultValueFactory = _ => 1 };
        var outDir = new Option<string>("--out") { Description = "Folder to write into; must be empty unless --overwrite.", Required = true };
        var seed = new Option<int>("--seed") { Description = "Seed of every random draw; image i depends only on (seed, i), the size and the stride. Default: 0.", DefaultValueFactory = _ => 0 };
        var stride = new Option<int?>("--stride") { Description = "Pixels between windows, 1..chunk (smaller: more overlap, more work). Default: half the chunk." };
        var batch = new Option<int>("--batch") { Description = "Windows run through the network at once; memory grows with it, not with the image. Default: 32.", DefaultValueFactory = _ => 32 };
        var weighting = EnumOption.Create<WindowWeighting>("--weighting", "How overlapping windows are blended: uniform (each covering window counts the same) or feather (a tent, highest at a window's centre, low at its edges, where a network's estimate is least sure). Default: feather.");
        var format = EnumOption.Create<WholeImageFormat>("--format", "both: 8-bit PNG and 16-bit TIFF of each image; png8 or tiff16: one of them. Default: both.");
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N. Default: the run's (auto unless it was trained with another)." };
        var threads = new Option<int?>("--threads") { Description = "CPU threads for libtorch (0: all cores). Default: all cores." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Allow writing into a folder that already holds files (earlier whole_* images there are replaced)." };
        var precision = EnumOption.Create<Precision>("--precision", "fp32 or bf16 network evaluation. Default: fp32.");
        var sampler = new SamplerOptions();
        var cmd = new Command("synthesize",
            "Write whole images of any size from a run trained on chunks: diffusion models denoise overlapping windows jointly " +
            "(MultiDiffusion), VAEs decode a chunk per window and feather the overlaps. Writes whole_NNNNNN.png and .tif, preview.png and synthesis.json.")
            { run, size, count, outDir, seed, stride, batch, weighting, format, device, threads, overwrite, precision };
        sampler.AddTo(cmd);
        cmd.SetAction(p => CliApp.Guard(cancel =>
        {
            var (width, height) = ParseSize(p.GetValue(size)!);
            var folder = RunFolder.Open(p.GetValue(run)!);
            if (p.GetValue(threads) is { } t && t > 0) TorchSharp.torch.set_num_threads(t);
            var (config, model, dev) = TrainingSession.LoadModel(folder, p.GetValue(device));
            using var ownedModel = model;
            var settings = Hypha.Sampling.Priors.FittedPriors.Resolve(folder, model, sampler.Resolve(p)); // a VAE's fitted prior, loaded
            using var latents = settings.Latents;
            var options = new WholeImageOptions
            {
                Width = width, Height = height, Count = p.GetValue(count), Seed = p.GetValue(seed), Stride = p.GetValue(stride),
                Batch = p.GetValue(batch), Format = p.GetValue(format) ?? WholeImageFormat.Both, Overwrite = p.GetValue(overwrite),
                Settings = settings, Weighting = p.GetValue(weighting),
            };
            var job = WholeImageWriter.Plan(model, dev, options); // every check, before anything is allocated or written
            var o = p.GetValue(outDir)!;
            using var compute = (config.Train with { Precision = p.GetValue(precision) ?? Precision.Fp32 }).ComputeScope(dev);
            using var hold = RunLock.ForOutput(o); // one writer per output folder
            Console.WriteLine($"{job.Model.WholeImageMethod}: {options.Count} image(s), {job.Plan}; {job.Cost.Steps} pass(es) over them: " +
                              $"{job.Evaluations:N0} window evaluations; about {MemoryBudget.Format(job.Needed)}" +
                              (job.Available is { } a ? $" of {MemoryBudget.Format(a)} available" : "") + $" on {dev}");
            WholeImageResult result;
            try
            {
                var last = 0.0;
                result = WholeImageWriter.Write(job, dev, o, folder.Root, pr =>
                {
                    if (pr.Seconds - last < 0.5 && pr.Done < pr.Total) return;
                    last = pr.Seconds;
                    var eta = pr.Eta is { } e ? $"ETA {(int)e.TotalHours:D2}:{e.Minutes:D2}:{e.Seconds:D2}" : "";
                    Console.Write($"\rimage {pr.Image + 1}/{pr.Count} windows {pr.Done:N0}/{pr.Total:N0} {pr.WindowsPerSecond:F1} windows/s {eta}   ");
                }, cancel, m => Console.Error.WriteLine($"warning: {m}"));
            }
            catch (OperationCanceledException)
            {
                throw new HyphaException(ExitCode.Interrupted, "interrupted: nothing was kept (the output folder is as it was before)", o);
            }
            Console.WriteLine($"\nwrote {result.Files.Count} file(s), {WholeImageWriter.PreviewName} and {WholeImageWriter.ManifestName} to {o} " +
                              $"in {result.Seconds:F1} s ({result.SecondsPerMegapixel:F1} s per megapixel, {result.WindowsPerSecond:F1} windows/s)");
            return 0;
        }));
        return cmd;
    }

    /// <summary>"WIDTHxHEIGHT" as two positive numbers; a configuration error naming <c>--size</c> otherwise.</summary>
    public static (int Width, int Height) ParseSize(string text)
    {
        var parts = text.Trim().ToLowerInvariant().Split('x');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var w) &&
            int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var h) && w > 0 && h > 0)
            return (w, h);
        throw HyphaException.Config($"--size must be WIDTHxHEIGHT in pixels, e.g. 512x512 (got '{text}')");
    }
}
