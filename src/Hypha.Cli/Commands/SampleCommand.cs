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
        var format = OutputOptions.Format("one multi-page TIFF, samples.tif");
        var batch = new Option<int>("--batch") { Description = "Images generated at once. Default: 256.", DefaultValueFactory = _ => 256 };
        var shard = OutputOptions.Shard("the set (whole batches of --batch)");
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N. Default: the run's (auto unless it was trained with another)." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Allow writing into a folder that already holds files." };
        var precision = EnumOption.Create<Precision>("--precision", "fp32 or bf16 sampling. Default: fp32.");
        var sampler = new SamplerOptions();
        var cmd = new Command("sample", "Write synthetic chunks sampled from a trained run's model, grid.png of the first 64 and manifest.csv (file, seed, sampler, run, checkpoint SHA-256).")
            { run, count, outDir, seed, format, batch, shard, device, overwrite, precision };
        sampler.AddTo(cmd);
        cmd.SetAction(p => CliApp.Guard(_ =>
        {
            var part = p.GetValue(shard) ?? Shard.Whole;
            var fmt = p.GetValue(format) ?? ImageFormat.Png8;
            SampleWriter.RefuseStackShards(fmt, part); // before the checkpoint is read
            var folder = RunFolder.Open(p.GetValue(run)!);
            var (config, model, dev, provenance) = SampleProvenance.Load(folder, p.GetValue(device));
            using var ownedModel = model;
            var n = p.GetValue(count);
            var settings = FittedPriors.Resolve(folder, model, sampler.Resolve(p)); // a VAE's fitted prior, loaded
            using var latents = settings.Latents;
            using var compute = (config.Train with { Precision = p.GetValue(precision) ?? Precision.Fp32 }).ComputeScope(dev);
            // One writer per output folder; the jobs of a sharded set share it (and exclude any other writer).
            using var hold = RunLock.ForOutput(p.GetValue(outDir)!, shared: part.IsPart);
            var (first, last) = n >= 1 && p.GetValue(batch) >= 1 ? part.Batches(n, p.GetValue(batch)) : (0, 0);
            var mine = last - first;
            if (part.IsPart && mine > 0) Console.WriteLine($"shard {part}: samples {first}..{last - 1} of {n}");
            var line = new SampleProgressLine(mine, p.GetValue(batch));
            var written = SampleWriter.Write(model, dev, n, p.GetValue(outDir)!, p.GetValue(seed), fmt, p.GetValue(batch), p.GetValue(overwrite),
                line.Images, settings, part, provenance, m => { line.Finish(); Console.WriteLine(m); }, line.Step);
            line.Finish();
            Console.WriteLine(fmt.IsStack()
                ? $"wrote a {n}-slice stack, grid.png and manifest.csv to {p.GetValue(outDir)}"
                : $"wrote {written.Count} samples{(first == 0 && mine > 0 ? ", grid.png" : "")} and manifest.csv to {p.GetValue(outDir)}");
            return 0;
        }));
        return cmd;
    }
}
