using System.CommandLine;
using Hypha.Evaluation;
using Hypha.Reporting;
using Hypha.Sampling.Priors;
using Hypha.Runs;
using Spectre.Console;

namespace Hypha.Cli.Commands;

/// <summary><c>hypha report</c>: one self-contained HTML page describing a run.</summary>
public static class ReportCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "A trained run folder (with checkpoints/last.ckpt).", Required = true };
        var outFile = new Option<string>("--out") { Description = "HTML file to write. Default: RUN/report.html." };
        var seed = new Option<long>("--seed") { Description = "Seed of the sample grid's latents. Default: 0.", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N. Default: the run's." };
        var cmd = new Command("report",
            "Write one self-contained HTML page (images embedded, no external files) for a run: configuration, dataset, loss and KL curves, " +
            "reconstructions, samples (with --sampler), latent interpolations, the latest metrics of hypha evaluate (made with the same VAE sampler) beside their floors, and the memorization check.")
            { run, outFile, seed, device };
        var sampler = new SamplerOptions();
        sampler.AddTo(cmd);
        cmd.SetAction(p => CliApp.Guard(_ =>
        {
            var folder = RunFolder.Open(p.GetValue(run)!);
            var settings = sampler.Resolve(p);
            RunEvaluation.RequireCheckpoint(folder);
            FittedPriors.Precheck(folder, settings, needsSamples: false); // a named prior not fitted: say so before reading images
            var path = RunReport.Write(folder, p.GetValue(outFile), p.GetValue(device), p.GetValue(seed),
                m => AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(m)}[/]"), settings);
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(path)}");
            return 0;
        }));
        return cmd;
    }
}
