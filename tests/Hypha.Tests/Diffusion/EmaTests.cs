using Hypha.Models.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Tests.Diffusion;

public class DiffusionEmaTests
{
    [Theory]
    [InlineData(0.999, 1)]
    [InlineData(0.999, 5000)]
    [InlineData(0.9, 100)]
    public void UpdateIsTheWarmedUpAverage(double decay, long step)
    {
        using var scope = NewDisposeScope();
        using var online = new UNet(new UNetSpec(1, 16, 8, [1, 2], 1, [8]));
        using var ema = new UNet(new UNetSpec(1, 16, 8, [1, 2], 1, [8]));
        Ema.Initialize(online, ema);
        Assert.All(ema.parameters(), p => Assert.False(p.requires_grad));
        var old = ema.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        using var g = new Generator(9);
        using (no_grad()) foreach (var p in online.parameters()) p.add_(randn(p.shape, generator: g));
        Ema.Update(online, ema, decay, step);
        var d = Math.Min(decay, (1.0 + step) / (10.0 + step));
        var onlineNow = online.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in ema.named_parameters())
        {
            var expected = d * old[name] + (1 - d) * onlineNow[name];
            Assert.True(allclose(expected, p, 1e-5, 1e-6), $"{name} is not {d} old + {1 - d} new");
            Assert.False(allclose(old[name], p), $"{name} did not move");
        }
    }
}
