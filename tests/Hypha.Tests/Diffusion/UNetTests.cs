using Hypha.Models.Diffusion;
using Hypha.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Tests.Diffusion;

public class DiffusionUNetTests
{
    static UNetSpec Spec(int channels, int resolution, int width = 8) =>
        new(channels, resolution, width, [1, 2, 2, 4], 1, [8]);

    [Theory]
    [InlineData(1, 32)]
    [InlineData(3, 32)]
    [InlineData(1, 64)]
    [InlineData(3, 64)]
    public void OutputShapeEqualsInputShape(int channels, int resolution)
    {
        using var scope = NewDisposeScope();
        using var net = new UNet(Spec(channels, resolution));
        using var g = new Generator(1);
        var x = randn([2, channels, resolution, resolution], generator: g);
        var y = net.forward(x, tensor(new long[] { 0, 999 }));
        Assert.Equal(x.shape, y.shape);
    }

    [Fact]
    public void DefaultConfigHasTheDocumentedParameterCount()
    {
        using var net = new UNet(new UNetSpec(1, 64, 16, [1, 2, 2, 4], 2, [8]));
        var count = net.parameters().Sum(p => p.numel());
        // The key list in docs/model-diffusion.md sums to this; about 1.0 M as the measured-facts PyTorch twin.
        Assert.Equal(DocumentedDefaultParameters, count);
        Assert.Contains(net.named_parameters(), p => p.name == "down.3.attn.1.qkv.weight");
        Assert.DoesNotContain(net.named_parameters(), p => p.name.StartsWith("down.2.attn"));
        Assert.Contains(net.named_parameters(), p => p.name == "up.3.attn.2.proj.weight");
        Assert.Contains(net.named_parameters(), p => p.name == "up.1.upsample.weight");
        Assert.DoesNotContain(net.named_parameters(), p => p.name.StartsWith("up.0.upsample"));
        Assert.Contains(net.named_parameters(), p => p.name == "down.0.downsample.weight");
        Assert.DoesNotContain(net.named_parameters(), p => p.name.StartsWith("down.3.downsample"));
        Assert.Contains(net.named_parameters(), p => p.name == "mid.attn.qkv.weight");
        Assert.Contains(net.named_parameters(), p => p.name == "time_mlp.linear2.bias");
        Assert.Contains(net.named_parameters(), p => p.name == "down.1.res.0.skip.weight");
        Assert.DoesNotContain(net.named_parameters(), p => p.name == "down.1.res.1.skip.weight");
    }

    /// <summary>docs/model-diffusion.md's parameter table is the network's state dict, key for key, shape for shape, in order.</summary>
    [Fact]
    public void DocsListEveryParameter()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Hypha.sln"))) dir = dir.Parent;
        Assert.NotNull(dir);
        var rows = File.ReadAllLines(Path.Combine(dir!.FullName, "docs", "model-diffusion.md"))
            .Where(l => l.StartsWith("| `"))
            .Select(l => l.Split('|', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .Select(c => (Key: c[0].Trim('`'), Shape: c[1]))
            .ToList();
        using var net = new UNet(new UNetSpec(1, 64, 16, [1, 2, 2, 4], 2, [8]));
        var actual = net.state_dict().Select(kv => (Key: kv.Key, Shape: "[" + string.Join(", ", kv.Value.shape) + "]")).ToList();
        Assert.Equal(actual, rows);
    }

    internal const long DocumentedDefaultParameters = 1_145_313;

    [Fact]
    public void UntrainedNetworkPredictsZero()
    {
        using var scope = NewDisposeScope();
        using var net = new UNet(Spec(1, 32));
        using var g = new Generator(2);
        var y = net.forward(randn([2, 1, 32, 32], generator: g), tensor(new long[] { 3, 700 }));
        Assert.Equal(0f, y.abs().max().item<float>());
    }

    [Theory]
    [InlineData(20)]
    [InlineData(4)]
    [InlineData(36)]
    public void BadChunkSizeIsRefusedNamingValidSizes(int resolution)
    {
        var e = Assert.Throws<HyphaException>(() => new UNet(Spec(1, resolution)));
        Assert.Contains("multiple of 8", e.Message);
        Assert.Contains("8, 16, 24, 32", e.Message);
        Assert.Contains($"got {resolution}", e.Message);
    }

    [Fact]
    public void Bf16ChannelsLastMatchesFp32()
    {
        using var scope = NewDisposeScope();
        using var net = new UNet(Spec(1, 32));
        using var g = new Generator(4);
        foreach (var p in net.parameters()) using (no_grad()) p.normal_(0, 0.05, g); // nonzero outputs
        var x = randn([2, 1, 32, 32], generator: g);
        var t = tensor(new long[] { 5, 600 });
        var y32 = net.forward(x, t);
        Tensor y16;
        using (Autocast.Enter(ScalarType.BFloat16, channelsLast: true)) y16 = net.forward(x, t);
        Assert.Equal(ScalarType.BFloat16, y16.dtype);
        var rel = ((y16.to_type(ScalarType.Float32) - y32).norm() / y32.norm()).item<float>();
        Assert.True(rel < 0.05, $"bf16 differs from fp32 by {rel:P1}");
    }

    /// <summary>
    /// Under no_grad (sampling) the forward frees each activation once its consumer has run, as PyTorch's reference
    /// counting does: at no point are more tensors alive than the skip connections waiting for the up path plus a
    /// block's own few (22 here). With <see cref="UNet.Consume"/>'s disposal switched off, as with the scope over the
    /// whole forward that it replaced, 39 are alive at once here, and the sampling peak was 29% higher (bench/README.md).
    /// </summary>
    [Fact]
    public void NoGradForwardHoldsOnlyTheSkipsAndOneBlock()
    {
        using var scope = NewDisposeScope();
        var spec = new UNetSpec(1, 32, 8, [1, 2, 2, 4], 2, [8]);
        using var net = new UNet(spec);
        using var g = new Generator(5);
        var x = randn([2, 1, 32, 32], generator: g);
        var t = tensor(new long[] { 5, 600 });
        var stats = DisposeScopeManager.Statistics;
        var baseline = stats.ThreadTotalLiveCount;
        long peak = 0, calls = 0;
        UNet.ConsumeProbe = () => { calls++; peak = Math.Max(peak, stats.ThreadTotalLiveCount - baseline); };
        Tensor y;
        try
        {
            using (no_grad()) y = net.forward(x, t);
        }
        finally { UNet.ConsumeProbe = null; }
        Assert.True(calls > 50, $"only {calls} UNet.Consume calls seen");
        // Skips: conv_in's output, each residual block's and each downsample's (all levels but the last): 1 + 8 + 3 = 12.
        var skips = 1 + spec.Levels * spec.ResBlocks + (spec.Levels - 1);
        Assert.True(peak <= skips + 12, $"{peak} tensors alive at once in a no_grad forward (skips {skips})");
        Assert.Equal(x.shape, y.shape);
    }
}
