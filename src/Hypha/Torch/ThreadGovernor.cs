using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Torch;

/// <summary>
/// Keeps libtorch's CPU threads on the cores other processes leave free. libtorch's OpenMP threads spin briefly at
/// every barrier (about 3 ms, libgomp's default): on an idle machine that is 1.4-2.3x faster than sleeping
/// (<c>OMP_WAIT_POLICY=PASSIVE</c>), but when another job holds a core, a spinning thread waits on a thread that is
/// not running and a step takes 2-4x longer. Every few seconds the governor reads how busy the cores were
/// (<c>/proc/stat</c>) minus this process's own CPU time, and sets the thread count to the cores left over (at least 1;
/// one thread has no barriers). Measured on 2 cores (docs/decisions.md).
/// </summary>
/// <remarks>Only where <c>/proc/stat</c> counts exactly the cores this process may use (a VM or a bare machine, not a
/// container on a larger host, where other tenants' load would count as ours): elsewhere <see cref="For"/> returns null
/// and the thread count stays as it is.</remarks>
public sealed class ThreadGovernor : IDisposable
{
    readonly TimeSpan _interval;
    readonly Stopwatch _clock = Stopwatch.StartNew();
    CpuSample _last;
    int _raiseVotes;

    ThreadGovernor(int maxThreads, TimeSpan interval, CpuSample start)
    {
        MaxThreads = Threads = maxThreads;
        _interval = interval;
        _last = start;
    }

    /// <summary>The thread count libtorch started with, the most the governor sets.</summary>
    public int MaxThreads { get; }

    /// <summary>The thread count now.</summary>
    public int Threads { get; private set; }

    /// <summary>A governor for CPU training with the thread count left to Hypha (<c>--threads 0</c>); null on other
    /// devices, with a user's fixed thread count, or where the cores cannot be measured.</summary>
    public static ThreadGovernor? For(Device device, int requestedThreads, TimeSpan? interval = null)
    {
        if (device.type != DeviceType.CPU || requestedThreads > 0) return null;
        if (CpuSample.Read() is not { } start || start.Cores != Environment.ProcessorCount) return null;
        var max = get_num_threads();
        return max > 1 ? new ThreadGovernor(max, interval ?? TimeSpan.FromSeconds(5), start) : null;
    }

    /// <summary>Called every training step; looks at the cores once per interval. Fewer threads take effect at once,
    /// more only after two looks agree, so a short burst elsewhere does not make the count flap.</summary>
    public void Tick()
    {
        if (_clock.Elapsed < _interval || CpuSample.Read() is not { } now) return;
        _clock.Restart();
        var others = now.OthersBusyCoresSince(_last);
        _last = now;
        var target = Math.Clamp(MaxThreads - (int)Math.Round(others), 1, MaxThreads);
        if (target < Threads) Set(target);
        else if (target > Threads && ++_raiseVotes >= 2) Set(target);
        else if (target <= Threads) _raiseVotes = 0;
    }

    /// <summary>Gives libtorch its full thread count back (for what runs after training).</summary>
    public void Dispose()
    {
        if (Threads != MaxThreads) Set(MaxThreads);
    }

    void Set(int threads)
    {
        set_num_threads(threads);
        Threads = threads;
        _raiseVotes = 0;
    }

    /// <summary>CPU time of the whole machine (from <c>/proc/stat</c>, in clock ticks) and of this process.</summary>
    readonly record struct CpuSample(long Busy, long Total, int Cores, TimeSpan Own, long WallTicks)
    {
        public static CpuSample? Read()
        {
            try
            {
                using var reader = new StreamReader("/proc/stat");
                var first = reader.ReadLine()?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (first is not { Length: >= 5 } || first[0] != "cpu") return null;
                // user nice system idle iowait irq softirq steal (guest time is already inside user and nice).
                var v = first.Skip(1).Take(8).Select(x => long.Parse(x, CultureInfo.InvariantCulture)).Concat(new long[8]).Take(8).ToArray();
                long busy = v[0] + v[1] + v[2] + v[5] + v[6];
                // Steal (the hypervisor running other machines) counts as neither busy nor idle: no process here holds
                // those cores, and they come back on their own.
                long total = busy + v[3] + v[4];
                var cores = 0;
                while (reader.ReadLine() is { } line && line.StartsWith("cpu", StringComparison.Ordinal)) cores++;
                using var self = Process.GetCurrentProcess();
                return new CpuSample(busy, total, cores, self.TotalProcessorTime, Stopwatch.GetTimestamp());
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException)
            {
                return null;
            }
        }

        /// <summary>Cores kept busy by other processes between <paramref name="before"/> and now.</summary>
        public double OthersBusyCoresSince(CpuSample before)
        {
            var total = Total - before.Total;
            var wall = Stopwatch.GetElapsedTime(before.WallTicks, WallTicks).TotalSeconds;
            if (total <= 0 || wall <= 0) return 0;
            var busy = (double)(Busy - before.Busy) / total * Cores;
            var own = (Own - before.Own).TotalSeconds / wall;
            return Math.Max(0, busy - own);
        }
    }
}
