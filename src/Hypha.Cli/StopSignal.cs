using System.Runtime.InteropServices;

namespace Hypha.Cli;

/// <summary>
/// A POSIX stop signal handled as Ctrl-C is: the first one cancels (training finishes its step, checkpoints and exits
/// with <c>code</c>), a second one ends the process at once with the signal's default action.
/// </summary>
static class StopSignal
{
    public static IDisposable? Register(PosixSignal signal, string name, ExitCode code, CancellationTokenSource cts, Action<ExitCode> stoppedBy)
    {
        if (OperatingSystem.IsWindows() && signal == PosixSignal.SIGHUP) return null;
        try
        {
            return PosixSignalRegistration.Create(signal, ctx =>
            {
                if (cts.IsCancellationRequested) return; // a second signal: default action (the process ends)
                ctx.Cancel = true;
                stoppedBy(code);
                Console.Error.WriteLine($"\n{name} received: stopping after the current step (a checkpoint will be written); send it again to end at once");
                cts.Cancel();
            });
        }
        catch (PlatformNotSupportedException) { return null; }
    }
}
