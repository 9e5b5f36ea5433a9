using Hypha.Models;
using Hypha.Models.Layers;
using Hypha.Models.ResNetVae;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Tests.Models;

public class AutocastTests
{
    static ResNetVae Model(int channels = 1)
    {
        manual_seed(3);
        var m = new ResNetVae(new ResNetVaeOptions(channels, 64, 8, 16));
        m.eval();
        return m;
    }

    [Fact]
    public void ChannelsLastGivesTheSameOutputAsChannelsFirst()
    {
        using var scope = NewDisposeScope();
        using var model = Model(channels: 3);
        manual_seed(4);
        var x = rand(3, 3, 64, 64);
        var (mu, _) = model.Encode(x);
        var nchw = model.Decode(mu);
        using (Autocast.Enter(ScalarType.Float32, channelsLast: true))
        {
            var (mu2, _) = model.Encode(x);
            var nhwc = model.Decode(mu2);
            Assert.Equal(1, nhwc.stride(1));              // really channels-last
            Assert.True(nhwc.allclose(nchw, rtol: 1e-4, atol: 1e-5));
        }
    }

    [Fact]
    public void Bf16ComputesCloseToFp32AndKeepsFp32MasterWeightsAndStatistics()
    {
        using var scope = NewDisposeScope();
        using var model = Model();
        model.train();
        manual_seed(5);
        var x = rand(4, 1, 64, 64);
        var fp32 = VaeMath.Terms(x, VaeMath.Forward(model, x), 1.0).Reconstruction.item<float>();
        using (Autocast.Enter(ScalarType.BFloat16, channelsLast: false))
        {
            var output = VaeMath.Forward(model, x);
            Assert.Equal(ScalarType.BFloat16, output.Reconstruction.dtype);
            Assert.Equal(ScalarType.Float32, output.Mu.dtype);
            var terms = VaeMath.Terms(x, output, 1.0);
            Assert.Equal(ScalarType.Float32, terms.Loss.dtype);
            Assert.Equal(fp32, terms.Reconstruction.item<float>(), fp32 * 0.05);
            terms.Loss.backward();
        }
        foreach (var (name, p) in model.named_parameters())
        {
            Assert.Equal(ScalarType.Float32, p.dtype);
            Assert.True(p.grad is null || p.grad.dtype == ScalarType.Float32, name);
        }
        foreach (var (name, b) in model.named_buffers().Where(b => b.name.EndsWith("running_mean")))
            Assert.Equal(ScalarType.Float32, b.dtype);
        Assert.Contains(model.named_parameters(), p => p.parameter.grad is not null && p.parameter.grad.abs().sum().item<float>() > 0);
    }
}
