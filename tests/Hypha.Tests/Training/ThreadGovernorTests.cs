using System.Diagnostics;
using Hypha.Torch;
using static TorchSharp.torch;

namespace Hypha.Tests.Training;

/// <summary>The governor gives up a thread while another process keeps a core busy, and takes it back after.</summary>
public class ThreadGovernorTests
{
    [SkippableFact]
    public void Yields_a_core_to_a_busy_process_and_takes_it_back()
    {
        var before = get_num_threads();
        set_num_threads(Environment.ProcessorCount); // other tests in this process may have fixed it at 1
        using var governor = ThreadGovernor.For(CPU, 0, TimeSpan.FromMilliseconds(700));
        try
        {
            Skip.If(governor is null, "needs at least 2 cores counted by /proc/stat");
            Assert.Equal(Environment.ProcessorCount, governor.Threads);
            // The test needs the other cores idle at first: a build, a benchmark or a child process of another test
            // keeping a core busy is exactly what the governor yields to, so it would keep yielding after our spinner ends.
            var quiet = Stopwatch.StartNew();
            while (quiet.Elapsed < TimeSpan.FromSeconds(1.6)) { governor.Tick(); Thread.Sleep(50); }
            Skip.If(governor.Threads < governor.MaxThreads, $"another process already keeps a core busy (the governor yielded to it: {governor.Threads} of {governor.MaxThreads} threads)");
            // Another process spinning on one core.
            using (var busy = Process.Start(new ProcessStartInfo("sh", ["-c", "while :; do :; done"]) { UseShellExecute = false })!)
            {
                try { Assert.True(TickUntil(governor, () => governor.Threads == governor.MaxThreads - 1), $"threads stayed {governor.Threads}"); }
                finally { busy.Kill(); busy.WaitForExit(); }
            }
            Assert.Equal(governor.Threads, get_num_threads());
            Assert.True(TickUntil(governor, () => governor.Threads == governor.MaxThreads), $"threads stayed {governor.Threads} after the other process ended");
        }
        finally { set_num_threads(before); }
    }

    static bool TickUntil(ThreadGovernor governor, Func<bool> done)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            governor.Tick();
            if (done()) return true;
            Thread.Sleep(50);
        }
        return false;
    }
}
