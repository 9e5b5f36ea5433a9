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
        // Sixteen 2 MiB tensors, written and freed together, like one step's activations. Under glibc's defaults the
        // freed 32 MiB lies beyond its trim threshold (twice the largest block freed so far) and goes back to the
        // kernel: about 2,500 faults every other round when this test runs with HYPHA_MALLOC=default.
        // Pages are touched from this thread and faults counted for this thread only, so that tests running
        // beside this one (and libtorch's own worker threads) do not count.
        long Round()
        {
            var before = PeakMemory.ThreadMinorFaults();
            using (torch.NewDisposeScope())
                for (var i = 0; i < 16; i++)
                {
                    var t = torch.empty(1 << 19);
                    using var storage = t.storage<float>();
                    for (var offset = 0; offset < 4 << 19; offset += 4096) Marshal.WriteInt32(storage.data_ptr(), offset, 1);
                }
            return PeakMemory.ThreadMinorFaults() - before;
        }
        Round();
        Round();
        var faults = Enumerable.Range(0, 9).Select(_ => Round()).ToList();
        // One round touches 8,192 pages; reused memory faults on none of them (a few stray faults are allowed).
        Assert.True(faults.Max() < 1_000, "minor faults per round: " + string.Join(", ", faults));
        Assert.StartsWith("keeps freed memory", HostAllocator.State);
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
