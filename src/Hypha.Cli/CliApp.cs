using System.CommandLine;
using System.Runtime.InteropServices;
using Hypha.Cli.Commands;

namespace Hypha.Cli;

/// <summary>Entry point of the <c>hypha</c> command: builds the verb tree and maps errors to exit codes.</summary>
public static class CliApp
{
    public static int Run(string[] args)
    {
        // Redirected output (logs, CI) would otherwise be laid out for 80 columns.
        if (Console.IsOutputRedirected && Spectre.Console.AnsiConsole.Profile.Width < 160) Spectre.Console.AnsiConsole.Profile.Width = 160;
        var root = new RootCommand("Hypha: train deep generative models (VAEs) on microscopy images and make synthetic image chunks.")
        {
            PrepareCommand.Create(),
            TrainCommand.Create(),
            SampleCommand.Create(),
            FitPriorCommand.Create(),
            SynthesizeCommand.Create(),
            AugmentCommand.Create(),
            ReconstructCommand.Create(),
            DoctorCommand.Create(),
            DemoCommand.Create(),
            EvaluateCommand.Create(),
            ReportCommand.Create(),
            BaselineCommand.Create(),
            ExportCommand.Create(),
            ImportCommand.Create(),
        };
        OptionParsing.Install(root);
        var parsed = root.Parse(args, OptionParsing.Configuration);
        if (parsed.Errors.Count > 0)
        {
            // One line per error, naming the option and what it accepts.
            var help = parsed.CommandResult.Command is RootCommand ? "hypha --help" : $"hypha {parsed.CommandResult.Command.Name} --help";
            foreach (var e in parsed.Errors) Console.Error.WriteLine($"error: {e.Message.TrimEnd('.')} (see '{help}')");
            return (int)ExitCode.InvalidConfig;
        }
        return parsed.Invoke();
    }

    /// <summary>Runs a verb's body, turning errors into a message and an exit code scripts can test.</summary>
    public static int Guard(Func<CancellationToken, int> body)
    {
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            if (cts.IsCancellationRequested) return; // a second Ctrl-C kills the process as usual
            e.Cancel = true;
            Console.Error.WriteLine("\nstopping after the current step (a checkpoint will be written); press Ctrl-C again to abort");
            cts.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        // SIGTERM (docker stop, Slurm, systemd) and SIGHUP (a closed terminal) stop as Ctrl-C does: checkpoint, say so, exit 143 or 129.
        var stoppedBy = ExitCode.Interrupted;
        using var onTerm = StopSignal.Register(PosixSignal.SIGTERM, "SIGTERM", ExitCode.Terminated, cts, c => stoppedBy = c);
        using var onHup = StopSignal.Register(PosixSignal.SIGHUP, "SIGHUP", ExitCode.HungUp, cts, c => stoppedBy = c);
        try
        {
            return body(cts.Token);
        }
        catch (HyphaException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return (int)e.Code;
        }
        catch (OperationCanceledException)
        {
            var by = stoppedBy switch { ExitCode.Terminated => " by SIGTERM", ExitCode.HungUp => " by SIGHUP", _ => "" };
            Console.Error.WriteLine($"interrupted{by}: the last checkpoint is complete; continue with --resume");
            return (int)stoppedBy;
        }
        catch (Exception e) when (Torch.AllocationFailure.From(e) is { } oom)
        {
            // A failed allocation that the estimates did not foresee: one line, exit 8, no trace.
            Console.Error.WriteLine($"error: {oom.Message}");
            return (int)ExitCode.OutOfMemory;
        }
        catch (Exception e) when (e.InnerException is HyphaException h)
        {
            Console.Error.WriteLine($"error: {h.Message}");
            return (int)h.Code;
        }
        catch (Exception e) when (OutputFault(e) is { } io)
        {
            // A full disk or read-only folder hit by a writer other than AtomicFile (metrics.csv, events, plots).
            Console.Error.WriteLine($"error: cannot write output ({io.Message.TrimEnd('.')}); checkpoints are written atomically, so the last one is intact");
            return (int)ExitCode.OutputError;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"unexpected error (please report it with the lines below): {e}");
            return (int)ExitCode.Unexpected;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>The disk-full, quota, file-too-large, read-only or permission error in <paramref name="e"/>'s chain, if any.</summary>
    static Exception? OutputFault(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is UnauthorizedAccessException) return e;
            // errno values .NET puts in HResult on Unix: ENOSPC 28, EDQUOT 122, EFBIG 27, EROFS 30; Windows: disk full 0x70, 0x27.
            if (e is IOException && (OperatingSystem.IsWindows() ? (e.HResult & 0xFFFF) is 0x70 or 0x27 : e.HResult is 28 or 122 or 27 or 30)) return e;
        }
        return null;
    }
}
