using System.CommandLine;
using System.Diagnostics;
using Hypha.Imaging;
using Hypha.Runs;
using Hypha.Sampling;
using Hypha.Training;

namespace Hypha.Cli.Commands;

/// <summary><c>hypha augment</c>: a training-ready folder of a run's real chunks, synthetic ones and the held-out real chunks.</summary>
public static class AugmentCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "A trained run folder.", Required = true };
        var outDir = new Option<string>("--out") { Description = "Folder to write into: empty, new, or holding other classes written by hypha augment; else --overwrite.", Required = true };
        var count = new Option<int?>("--count") { Description = "Synthetic images to write. Give this or --synthetic-per-real." };
        var ratio = new Option<double?>("--synthetic-per-real") { Description = "Synthetic images per real training chunk (e.g. 1 for as many as real/ holds, 0.5 for half). Give this or --count." };
        var cls = new Option<string>("--class") { Description = "Name of the class folder inside real/, synthetic/ and test-real/ (one call per class, one run each, into the same --out). Default: the run folder's name." };
        var seed = new Option<int>("--seed") { Description = "Seed of the synthetic images (the same files as hypha sample --seed). Default: 0.", DefaultValueFactory = _ => 0 };
        var format = OutputOptions.Format("one stack per part, e.g. synthetic/CLASS/synthetic.tif");
        var batch = new Option<int>("--batch") { Description = "Images generated at once. Default: 256.", DefaultValueFactory = _ => 256 };
        var shard = OutputOptions.Shard("each part (synthetic images in whole batches of --batch)");
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N. Default: the run's (auto unless it was trained with another)." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Allow a folder with other files, and replace this class where it is there already (its image files this set does not hold are removed)." };
        var precision = EnumOption.Create<Precision>("--precision", "fp32 or bf16 sampling. Default: fp32.");
        var sampler = new SamplerOptions();
        var cmd = new Command("augment",
            "Write a training-ready folder as PyTorch's ImageFolder reads it: real/CLASS/ (the run's training chunks), synthetic/CLASS/ (samples of its model), " +
            "test-real/CLASS/ (its validation and test chunks, never trained on) and manifest-CLASS.csv (one row per image: source and position, or seed and sampler; run and checkpoint SHA-256).")
            { run, outDir, count, ratio, cls, seed, format, batch, shard, device, overwrite, precision };
        sampler.AddTo(cmd);
        cmd.SetAction(p => CliApp.Guard(_ =>
        {
            var options = new AugmentOptions
            {
                Count = p.GetValue(count), SyntheticPerReal = p.GetValue(ratio), Seed = p.GetValue(seed), Format = p.GetValue(format) ?? ImageFormat.Png8,
                Batch = p.GetValue(batch), Overwrite = p.GetValue(overwrite), Class = p.GetValue(cls), Settings = sampler.Resolve(p),
                Shard = p.GetValue(shard) ?? Shard.Whole,
            };
            var folder = RunFolder.Open(p.GetValue(run)!);
            AugmentWriter.CheckOptions(options, options.Class ?? Path.GetFileName(folder.Root)); // before the checkpoint is read
            SampleWriter.RefuseStackShards(options.Format, options.Shard);
            var (config, model, dev, provenance) = SampleProvenance.Load(folder, p.GetValue(device));
            using var ownedModel = model;
            options = options with { Settings = Hypha.Sampling.Priors.FittedPriors.Resolve(folder, model, options.Settings) }; // a VAE's fitted prior, loaded
            using var latents = options.Settings.Latents;
            using var compute = (config.Train with { Precision = p.GetValue(precision) ?? Precision.Fp32 }).ComputeScope(dev);
            var target = p.GetValue(outDir)!;
            using var hold = RunLock.ForOutput(target, shared: options.Shard.IsPart); // classes are written one call at a time; shards of one set together
            if (options.Shard.IsPart) Console.WriteLine($"shard {options.Shard}: this job writes its slice of each part");
            var view = new ProgressLine();
            var result = AugmentWriter.Write(folder, model, dev, provenance, target, options, view.Show, m => { view.End(); Console.WriteLine(m); });
            view.End();
            Console.WriteLine($"class '{result.Class}': {result.Real:N0} real training chunks (real/), {result.Synthetic:N0} synthetic (synthetic/), " +
                              $"{result.Validation:N0} validation + {result.Test:N0} test chunks (test-real/){(options.Shard.IsPart ? $"; this job wrote {result.Written.Count:N0} file(s)" : "")}");
            Console.WriteLine($"manifest: {result.Manifest}");
            if (!options.Format.IsStack())
                Console.WriteLine($"PyTorch: ConcatDataset([ImageFolder('{target}/real'), ImageFolder('{target}/synthetic')]) to train, ImageFolder('{target}/test-real') to test");
            return 0;
        }));
        return cmd;
    }

    /// <summary>One progress line per part: done/total, images/s and ETA, redrawn in place.</summary>
    sealed class ProgressLine
    {
        readonly Stopwatch _clock = new();
        string? _part;

        public void Show(AugmentProgress p)
        {
            if (p.Part != _part)
            {
                End();
                _part = p.Part;
                _clock.Restart();
            }
            var seconds = _clock.Elapsed.TotalSeconds;
            var rate = seconds >= 0.5 ? p.Done / seconds : 0; // none from the first batch's few milliseconds
            var eta = rate > 0 ? TimeSpan.FromSeconds((p.Total - p.Done) / rate) : (TimeSpan?)null;
            Console.Write($"\r{p.Part,-10} {p.Done:N0}/{p.Total:N0}  {(rate > 0 ? $"{rate:F1}" : "--")} images/s  ETA {(eta is { } e ? $"{(int)e.TotalHours:D2}:{e.Minutes:D2}:{e.Seconds:D2}" : "--")}   ");
        }

        public void End()
        {
            if (_part is null) return;
            Console.WriteLine();
            _part = null;
        }
    }
}
