using System.CommandLine;
using Hypha.Cli.Commands;

namespace Hypha.Cli;

/// <summary>Entry point of the <c>hypha</c> command: builds the verb tree and maps errors to exit codes.</summary>
public static class CliApp
{
    public static int Run(string[] args)
    {
        // Redirected output (logs, CI) would otherwise be laid out for 80 columns.
        if (Console.IsOutputRedirected) Spectre.Console.AnsiConsole.Profile.Width = 160;
        var root = new RootCommand("Hypha: train deep generative models (VAEs) on microscopy images and make synthetic image chunks.")
        {
            PrepareCommand.Create(),
            TrainCommand.Create(),
            SampleCommand.Create(),
            ReconstructCommand.Create(),
            DoctorCommand.Create(),
            DemoCommand.Create(),
            EvaluateCommand.Create(),
            ReportCommand.Create(),
            BaselineCommand.Create(),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors) Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine("See 'hypha --help' or 'hypha VERB --help'.");
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
            Console.Error.WriteLine("interrupted: the last checkpoint is complete; continue with --resume");
            return (int)ExitCode.Interrupted;
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
