using System.CommandLine;
using Hypha.Imaging;
using Hypha.Models;
using Hypha.Runs;
using Hypha.Sampling.Priors;
using Hypha.Training;
using Spectre.Console;

namespace Hypha.Cli.Commands;

/// <summary><c>hypha train</c>: a new run (or <c>--resume</c> an existing one) with progress, checkpoints, curves and grids.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var options = new RunOptions();
        var outDir = new Option<string>("--out") { Description = "Parent folder of new runs; each gets a numbered folder named from its config. Default: runs." };
        var runDir = new Option<string>("--run") { Description = "Exact run folder (new, or existing with --resume)." };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --run from its last checkpoint (or from the start when it stopped before one), with its stored configuration (only --epochs, --device, --precision, --layout, --time-limit and --memory-budget may change)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the resolved configuration and exit." };
        var fitPrior = new Option<string>("--fit-prior")
        {
            Description = "VAEs: when training ends (finished or at --time-limit), fit this prior to the training chunks' latents with " +
                          "hypha fit-prior's defaults, replacing one fitted before: gmm or latent-diffusion. Default: none.",
            HelpName = "gmm|latent-diffusion",
        };
        var cmd = new Command("train", "Train a model on image chunks; writes a run folder with config, checkpoints, metrics.csv, TensorBoard events, curves and grids.");
        options.AddTo(cmd);
        cmd.Options.Add(outDir);
        cmd.Options.Add(runDir);
        cmd.Options.Add(resume);
        cmd.Options.Add(dryRun);
        cmd.Options.Add(fitPrior);
        cmd.SetAction(p => CliApp.Guard(cancel =>
        {
            var prior = p.GetValue(fitPrior) is { } fitName ? new PriorFitRequest { Sampler = fitName, Overwrite = true }.Validated() : null;
            RunFolder run;
            RunConfig config;
            if (p.GetValue(resume))
            {
                var path = p.GetValue(runDir) ?? throw HyphaException.Config("--resume needs --run DIR");
                ResumeCheck.RefuseOthers(p, [.. options.All, outDir, fitPrior], options.Epochs, options.Device, options.Precision, options.Layout, options.TimeLimit, fitPrior, options.MemoryBudget);
                run = RunFolder.Open(path);
                config = run.ReadConfig();
                config = config with { Train = config.Train with {
                    Epochs = p.GetValue(options.Epochs) ?? config.Train.Epochs,
                    Device = p.GetValue(options.Device) ?? config.Train.Device,
                    Precision = p.GetValue(options.Precision) ?? config.Train.Precision,
                    Layout = p.GetValue(options.Layout) ?? config.Train.Layout,
                    TimeLimit = p.GetValue(options.TimeLimit) ?? config.Train.TimeLimit },
                    Data = config.Data with { MemoryBudget = p.GetValue(options.MemoryBudget) ?? config.Data.MemoryBudget } };
                config = ThreadCap.Apply(config.Validated());
                if (prior is not null) RequireLatents(config); // before any work: --fit-prior of a model without latents
                // Refuse before anything is written: the session rewrites config.json with these settings.
                if (File.Exists(run.LastCheckpoint)) Trainer.EnsureResumable(Checkpoint.ReadHeader(run.LastCheckpoint), config.Train.Epochs);
            }
            else
            {
                config = ThreadCap.Apply(options.Resolve(p, "thesis"));
                if (config.Data.Images.Count == 0) throw HyphaException.Config("no images given: pass --images with a folder, files or a glob");
                OwnOutputs.RefuseInside(p.GetValue(runDir) ?? p.GetValue(outDir) ?? "runs", config.Data.Images, p.GetValue(runDir) is not null ? "--run" : "--out");
                if (prior is not null) RequireLatents(config);
                if (p.GetValue(dryRun))
                {
                    Console.WriteLine(ConfigJson.Serialize(config));
                    return 0;
                }
                var explicitRun = p.GetValue(runDir);
                // A folder whose run stopped before its first checkpoint holds nothing worth keeping: it is reused.
                if (explicitRun is not null && File.Exists(Path.Combine(explicitRun, "checkpoints", "last.ckpt")))
                    throw new HyphaException(ExitCode.OutputError, "already holds a trained run; pass --resume to continue it or choose another folder", explicitRun);
                run = explicitRun is not null ? RunFolder.At(explicitRun) : RunFolder.CreateUnder(p.GetValue(outDir) ?? "runs", config);
            }
            if (p.GetValue(dryRun))
            {
                Console.WriteLine(ConfigJson.Serialize(config));
                return 0;
            }
            using var hold = RunLock.Acquire(run.Root, "run folder"); // one writer per run folder, for the life of the process
            return Train(run, config, p.GetValue(resume), cancel, prior); // fit-prior's defaults: the same prior as hypha fit-prior fits
        }));
        return cmd;
    }

    /// <summary>Refuses <c>--fit-prior</c> for a family without latents (the model is built once, on the CPU, to ask it).</summary>
    static void RequireLatents(RunConfig config)
    {
        using var model = config.Model.Descriptor.Create(config.Model, ChannelModeExtensions.Count(config.Data.Channels), config.Data.Chunk);
        model.Require<IEncoderModel>("be fitted a prior over its latents (--fit-prior: only the VAEs have latents)");
    }

    /// <param name="prior">A prior to fit when training ends (<c>--fit-prior</c>); default none.</param>
    public static int Train(RunFolder run, RunConfig config, bool resume, CancellationToken cancel, PriorFitRequest? prior = null)
    {
        AnsiConsole.MarkupLine($"run folder [bold]{Markup.Escape(run.Root)}[/]");
        using var session = TrainingSession.Create(run, config, m => AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(m)}[/]"), resume);
        PrepareCommand.Report(session.Data, config.Data);
        AnsiConsole.MarkupLine($"model {config.Model.Kind} ({Markup.Escape(config.Model.Descriptor.Architecture(config.Model))}, " +
                               $"{session.Model.Module.parameters().Where(q => q.requires_grad).Sum(q => q.numel()):N0} parameters, " +
                               $"about {Torch.DeviceMemory.Format(MemoryCheck.Estimate(config).TrainingBytes(config.Train.Batch))} to train) " +
                               $"on {session.Device} ({(config.Train.ChannelsLastOn(session.Device) ? "channels-last" : "channels-first")}); {config.Train.Epochs} epochs, batch {config.Train.Batch}, lr {config.Train.Lr}");
        TrainResult result;
        try
        {
            result = new TrainingProgressView().Run(progress => session.Train(resume, progress, cancel));
        }
        catch (Exception e) when (Torch.AllocationFailure.From(e) is not null && !resume)
        {
            run.DeleteIfNoCheckpoint(); // a new run that ran out of memory before its first checkpoint leaves nothing behind
            throw;
        }
        var val = string.Join(", ", result.LastValidation.Select(kv => $"{kv.Key} {kv.Value:G5}"));
        AnsiConsole.MarkupLine($"done: {result.EpochsDone} epochs, {result.ImagesSeen:N0} images seen" +
                               (val.Length > 0 ? $"; validation {Markup.Escape(val)}" : "") +
                               (result.SkippedSteps > 0 ? $"; {result.SkippedSteps} NaN/Inf steps skipped" : ""));
        if (result.TimeLimitReached)
            AnsiConsole.MarkupLine($"[yellow]stopped at the time limit ({config.Train.TimeLimit:G4} min) with a checkpoint; continue with hypha train --run {Markup.Escape(run.Root)} --resume[/]");
        AnsiConsole.MarkupLine($"peak host memory {Torch.PeakMemory.HostMiB():F0} MiB");
        AnsiConsole.MarkupLine($"curves in {Markup.Escape(run.PlotsDir)}, grids in {Markup.Escape(run.GridsDir)}, TensorBoard: tensorboard --logdir {Markup.Escape(run.EventsDir)}");
        if (prior is not null) FitPriorCommand.Fit(session, prior, cancel);
        return 0;
    }
}
