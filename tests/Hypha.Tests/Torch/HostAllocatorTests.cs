using System.Runtime.InteropServices;
using Hypha.Torch;
using TorchSharp;

namespace Hypha.Tests.Torch;

/// <summary>glibc's malloc keeps freed tensor memory once libtorch is loaded (<see cref="HostAllocator"/>), so a
/// repeated pattern of allocations, as in a training step, reuses its pages instead of faulting them in again.</summary>
public class HostAllocatorTests
{
    [Fact]
    public void Repeated_allocations_reuse_their_pages()
    {
        TorchBackend.EnsureLoaded();
        // Fails here, with the reason, where the environment sets glibc's own malloc variables.
        Assert.StartsWith("keeps freed memory", HostAllocator.State);
        // Sixteen 256 KiB tensors, written and freed together, like one step's activations. Under glibc's defaults the
        // freed 4 MiB lies beyond its trim threshold (twice the largest block freed so far) and goes back to the
        // kernel: with HYPHA_MALLOC=default (and the assertion above removed) this test saw 800 faults in every round,
        // or about 1,000 in the first rounds until glibc's dynamic thresholds settled. The rounds run on a thread of
        // their own, which pages are touched from and faults are counted for, so that tests running beside this one
        // (and libtorch's worker threads) do not count; a new thread also usually gets a malloc arena of its own.
        const int Floats = 1 << 16;
        long Round()
        {
            var before = PeakMemory.ThreadMinorFaults();
            using (torch.NewDisposeScope())
                for (var i = 0; i < 16; i++)
                {
                    using var storage = torch.empty(Floats).storage<float>();
                    for (var offset = 0; offset < Floats * 4; offset += 4096) Marshal.WriteInt32(storage.data_ptr(), offset, 1);
                }
            return PeakMemory.ThreadMinorFaults() - before;
        }
        var faults = new List<long>();
        Exception? failure = null; // an exception escaping a thread of its own would end the test host
        var thread = new Thread(() =>
        {
            try
            {
                for (var round = 0; round < 12; round++)
                    if (Round() is var n && round >= 4) faults.Add(n); // the first rounds grow the heap (a third one did once, with the suite running beside it)
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null) throw new InvalidOperationException("allocation rounds failed", failure);
        // One round touches 1,024 pages; reused memory faults on none of them (a few stray faults are allowed).
        Assert.True(faults.Max() < 100, "minor faults per round: " + string.Join(", ", faults));
    }

    [Fact]
    public void Users_own_settings_win()
    {
        Func<string, string?> Env(string name, string value) => v => v == name ? value : null;
        if (!OperatingSystem.IsLinux())
        {
            Assert.NotNull(HostAllocator.Refusal(_ => null));
            return;
        }
        Assert.Null(HostAllocator.Refusal(_ => null));
        Assert.Equal("glibc default (HYPHA_MALLOC=default)", HostAllocator.Refusal(Env(HostAllocator.OptOutVariable, "default")));
        Assert.Null(HostAllocator.Refusal(Env(HostAllocator.OptOutVariable, "tuned")));
        Assert.Equal("as set by MALLOC_TRIM_THRESHOLD_", HostAllocator.Refusal(Env("MALLOC_TRIM_THRESHOLD_", "0")));
        Assert.Equal("as set by GLIBC_TUNABLES", HostAllocator.Refusal(Env("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=0")));
    }
}
