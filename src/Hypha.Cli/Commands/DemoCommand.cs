using System.CommandLine;
using Hypha.Imaging;
using Hypha.Models;
using Hypha.Runs;
using Hypha.Sampling;
using Hypha.Sampling.Priors;
using Hypha.Training;
using Spectre.Console;

namespace Hypha.Cli.Commands;

/// <summary>
/// <c>hypha demo</c>: the whole pipeline in one command on the cpu preset: prepare, train, sample, reconstruct.
/// Without --images it first draws a built-in synthetic example (labelled SYNTHETIC) so it runs anywhere.
/// </summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var options = new RunOptions();
        var outDir = new Option<string>("--out") { Description = "Folder for everything the demo writes; must not hold files unless --overwrite. Default: demo." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Allow a folder that already holds files (its files are replaced)." };
        var cmd = new Command("demo", "Run the whole pipeline on the cpu preset (minutes on a laptop; --model diffusion for the diffusion-cpu preset): on --images, or on a built-in synthetic example; ends with a report page.");
        options.AddTo(cmd);
        cmd.Options.Add(outDir);
        cmd.Options.Add(overwrite);
        cmd.SetAction(p => CliApp.Guard(cancel =>
        {
            var root = Path.GetFullPath(p.GetValue(outDir) ?? "demo");
            var clean = p.GetValue(overwrite);
            if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
            {
                if (!clean) throw new HyphaException(ExitCode.OutputError, "already holds files; choose another --out or pass --overwrite", root);
                Directory.Delete(root, recursive: true);
            }
            // The CPU preset of the family asked for (diffusion-cpu, provae-cpu), else cpu.
            var family = p.GetValue(options.Model) is { } m ? ModelRegistry.Get(m).Name.Replace('_', '-') + "-cpu" : null;
            var config = ThreadCap.Apply(options.Resolve(p, family is not null && Presets.All.ContainsKey(family) ? family : "cpu"));
            if (config.Data.Images.Count == 0)
            {
                var example = Path.Combine(root, "example-input-SYNTHETIC");
                var files = SyntheticRoots.Write(example, count: 3, seed: config.Train.Seed);
                AnsiConsole.MarkupLine($"[yellow]No --images given: using a built-in SYNTHETIC example ({files.Count} procedurally drawn root images in {Markup.Escape(example)}). " +
                                       "Pass --images to run on your own microscopy images.[/]");
                config = config with { Data = config.Data with { Images = [example] } };
            }
            var run = RunFolder.At(Path.Combine(root, "run"));
            var code = TrainCommand.Train(run, config, resume: false, cancel);
            if (code != 0) return code;

            using var session = TrainingSession.OpenTrained(run);
            if (session.Model.As<IEncoderModel>() is { SamplesFromPrior: false })
            {
                // Its samples come from a prior fitted to its latents: the demo fits the one that takes seconds.
                FitPriorCommand.Fit(session, new PriorFitRequest { Sampler = LatentSamplers.Gmm, Overwrite = true }.Validated(), cancel);
                AnsiConsole.MarkupLine($"[yellow]The demo samples this model through the gmm prior (seconds to fit); its sharper samples come from " +
                                       $"{Markup.Escape(FittedPriors.FitCommand(run, LatentSamplers.LatentDiffusion))} (about 80 minutes of one CPU core).[/]");
            }
            var settings = FittedPriors.Resolve(run, session.Model, new SamplerSettings());
            using var ownedLatents = settings.Latents;
            var samples = SampleWriter.Write(session.Model, session.Device, 64, Path.Combine(root, "samples"), config.Train.Seed,
                progress: k => Console.Write($"\rsampled {k}/64"), settings: settings);
            Console.WriteLine();
            AnsiConsole.MarkupLine($"samples: {Markup.Escape(Path.Combine(root, "samples", "grid.png"))} ({samples.Count} files)");
            if (session.Model.As<IEncoderModel>() is { } encoder)
            {
                var ix = session.Data.Index;
                ReconstructionWriter.Write(encoder, session.Bank, session.Data.Only(Data.DataSplit.Test), Path.Combine(root, "reconstructions"), limit: 50);
                var test = Validator.Score(session.Model, session.Bank, ix.Test, 0, 128);
                var psnr = Psnr.FromMse(test["mse_per_pixel"]);
                var baseline = Validator.MeanBaselinePsnr(session.Bank, ix.Test, 0);
                AnsiConsole.MarkupLine($"test part: reconstruction PSNR [bold]{psnr:F2} dB[/] over {test.Chunks} chunks; " +
                                       $"predicting each chunk's own mean gives {baseline:F2} dB ({psnr - baseline:+0.00;-0.00} dB)");
                AnsiConsole.MarkupLine($"reconstructions: {Markup.Escape(Path.Combine(root, "reconstructions", "grid_000.png"))}");
            }
            var report = Reporting.RunReport.Write(run, seed: config.Train.Seed);
            AnsiConsole.MarkupLine($"report page (open in a browser): [bold]{Markup.Escape(report)}[/]; add metrics with hypha evaluate --run {Markup.Escape(run.Root)}");
            AnsiConsole.MarkupLine($"curves: {Markup.Escape(run.PlotsDir)}; run folder: {Markup.Escape(run.Root)}");
            return 0;
        }));
        return cmd;
    }
}
