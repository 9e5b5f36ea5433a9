using Hypha.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Tests.Progressive;

/// <summary>The proVAE's layers against their formulas.</summary>
public sealed class ProgressiveLayerTests
{
    [Fact]
    public void PixelNormScalesEachPixelsFeatureVectorToUnitMeanSquare()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var x = randn(3, 5, 4, 4) * 3;
        var y = new PixelNorm().forward(x);
        var expected = x / (x.square().mean([1], keepdim: true) + 1e-8).sqrt();
        Assert.True(allclose(y, expected, rtol: 1e-5, atol: 1e-6));
        Assert.True(allclose(y.square().mean([1]), ones(3, 4, 4), rtol: 1e-4, atol: 1e-5));
        // epsilon keeps an all-zero vector at zero instead of NaN
        Assert.Equal(0f, new PixelNorm().forward(zeros(1, 4, 2, 2)).abs().max().item<float>());
        Assert.Equal(1e-8, new PixelNorm().Epsilon);
    }

    [Theory]
    [InlineData(4, 6, 3, 1)]
    [InlineData(1, 8, 1, 2)]
    public void EqualizedConvScalesUnitGaussianWeightsByHeConstantAtRunTime(int cin, int cout, int k, int stride)
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        using var conv = new EqualizedConv2d(cin, cout, k, stride: stride, padding: k / 2);
        Assert.Equal(Math.Sqrt(2) / Math.Sqrt(cin * k * k), conv.Scale, 12);
        var w = conv.named_parameters().Single(p => p.name == "weight").parameter;
        var b = conv.named_parameters().Single(p => p.name == "bias").parameter;
        // stored weights are N(0, 1) (not scaled), bias 0
        Assert.InRange(w.std().item<float>(), 0.6f, 1.4f);
        Assert.Equal(0f, b.abs().sum().item<float>());
        using (no_grad()) b.add_(0.3);
        var x = randn(2, cin, 9, 9);
        var expected = nn.functional.conv2d(x, w * conv.Scale, b, strides: [stride, stride], padding: [k / 2, k / 2]);
        Assert.True(allclose(conv.forward(x), expected, rtol: 1e-5, atol: 1e-5));
        Assert.True(allclose(conv.EffectiveWeight(), w * conv.Scale));
    }

    [Fact]
    public void EqualizedConvWithGainOneAndPlainConvWhenOff()
    {
        using var scope = NewDisposeScope();
        using var toRgb = new EqualizedConv2d(16, 1, 1, gain: 1);
        Assert.Equal(1 / 4.0, toRgb.Scale, 12);
        using var plain = new EqualizedConv2d(16, 8, 3, padding: 1, equalized: false);
        Assert.Equal(1.0, plain.Scale);
        var w = plain.named_parameters().Single(p => p.name == "weight").parameter;
        Assert.True(w.abs().max().item<float>() <= 1 / Math.Sqrt(16 * 9) + 1e-6);
        var x = randn(1, 16, 5, 5);
        var b = plain.named_parameters().Single(p => p.name == "bias").parameter;
        Assert.True(allclose(plain.forward(x), nn.functional.conv2d(x, w, b, padding: [1, 1]), rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void EqualizedLinearScalesByHeConstant()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var fc = new EqualizedLinear(50, 7);
        Assert.Equal(Math.Sqrt(2) / Math.Sqrt(50), fc.Scale, 12);
        using var head = new EqualizedLinear(50, 7, gain: 1);
        Assert.Equal(1 / Math.Sqrt(50), head.Scale, 12);
        var w = fc.named_parameters().Single(p => p.name == "weight").parameter;
        var b = fc.named_parameters().Single(p => p.name == "bias").parameter;
        var x = randn(4, 50);
        Assert.True(allclose(fc.forward(x), nn.functional.linear(x, w * fc.Scale, b), rtol: 1e-5, atol: 1e-6));
        Assert.Equal(1.0, new EqualizedLinear(50, 7, equalized: false).Scale);
    }

    [Fact]
    public void MinibatchStdAppendsTheMeanStandardDeviationOverTheBatch()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        var x = randn(6, 3, 4, 4);
        var y = new MinibatchStdDev().forward(x);
        Assert.Equal([6L, 4, 4, 4], y.shape);
        Assert.True(allclose(y[.., ..3], x));
        var expected = (x.var(0, unbiased: false) + 1e-8).sqrt().mean().item<float>();
        Assert.True(allclose(y[.., 3], full(6, 4, 4, expected), rtol: 1e-5));
    }
}
