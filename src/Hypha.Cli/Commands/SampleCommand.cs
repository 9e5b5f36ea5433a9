using System.CommandLine;
using Hypha.Imaging;
using Hypha.Runs;
using Hypha.Sampling;
using Hypha.Sampling.Priors;
using Hypha.Training;

namespace Hypha.Cli.Commands;

/// <summary><c>hypha sample</c>: synthetic chunks from a trained run.</summary>
public static class SampleCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "A trained run folder.", Required = true };
        var count = new Option<int>("--count") { Description = "Number of chunks to write. Default: 64.", DefaultValueFactory = _ => 64 };
        var outDir = new Option<string>("--out") { Description = "Folder to write into; must be empty unless --overwrite.", Required = true };
        var seed = new Option<long>("--seed") { Description = "Seed of the samples' random draws (latents, noise). Default: 0.", DefaultValueFactory = _ => 0 };
        var format = EnumOption.Create<ImageFormat>("--format", "png8: 8-bit PNG; tiff16: 16-bit TIFF. Default: png8.");
        var batch = new Option<int>("--batch") { Description = "Images generated at once. Default: 256.", DefaultValueFactory = _ => 256 };
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N. Default: the run's (auto unless it was trained with another)." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Allow writing into a folder that already holds files." };
        var precision = EnumOption.Create<Precision>("--precision", "fp32 or bf16 sampling. Default: fp32.");
        var sampler = new SamplerOptions();
        var cmd = new Command("sample", "Write synthetic chunks sampled from a trained run's model, plus grid.png of the first 64.")
            { run, count, outDir, seed, format, batch, device, overwrite, precision };
        sampler.AddTo(cmd);
        cmd.SetAction(p => CliApp.Guard(_ =>
        {
            var folder = RunFolder.Open(p.GetValue(run)!);
            var (config, model, dev) = TrainingSession.LoadModel(folder, p.GetValue(device));
            using var ownedModel = model;
            var n = p.GetValue(count);
            var settings = FittedPriors.Resolve(folder, model, sampler.Resolve(p)); // a VAE's fitted prior, loaded
            using var latents = settings.Latents;
            using var compute = (config.Train with { Precision = p.GetValue(precision) ?? Precision.Fp32 }).ComputeScope(dev);
            using var hold = RunLock.ForOutput(p.GetValue(outDir)!); // one writer per output folder
            var line = new SampleProgressLine(n, p.GetValue(batch));
            var written = SampleWriter.Write(model, dev, n, p.GetValue(outDir)!, p.GetValue(seed), p.GetValue(format) ?? ImageFormat.Png8,
                p.GetValue(batch), p.GetValue(overwrite), line.Images, settings, line.Step);
            line.Finish();
            Console.WriteLine($"wrote {written.Count} samples and grid.png to {p.GetValue(outDir)}");
            if (p.GetValue(overwrite) && StaleSamples.Remove(p.GetValue(outDir)!, written) is { Count: > 0 } stale)
                Console.WriteLine($"removed {stale.Count} earlier sample file(s) this run did not replace, so the folder holds one run's samples");
            return 0;
        }));
        return cmd;
    }
}
