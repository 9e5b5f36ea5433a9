using Hypha.Models.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Tests.Diffusion;

public class DiffusionScheduleTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(250)]
    [InlineData(500)]
    [InlineData(999)]
    public void CosineAlphaBarMatchesItsFormula(int t)
    {
        const int T = 1000;
        var s = new NoiseSchedule(T, ScheduleKind.Cosine);
        // Independent: ab_t = prod (1 - min(1 - f(k+1)/f(k), 0.999)); without the cap it telescopes to f(t+1)/f(0).
        double F(double k) => Math.Pow(Math.Cos((k / T + 0.008) / 1.008 * Math.PI / 2), 2);
        double expected = 1;
        for (var k = 0; k <= t; k++) expected *= 1 - Math.Min(1 - F(k + 1) / F(k), 0.999);
        Assert.Equal(expected, s.AlphaBar[t], 12);
        if (t < 990) Assert.Equal(F(t + 1) / F(0), s.AlphaBar[t], 9); // the cap only bites at the very end
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(500)]
    [InlineData(999)]
    public void LinearAlphaBarMatchesItsFormula(int t)
    {
        var s = new NoiseSchedule(1000, ScheduleKind.Linear);
        double expected = 1;
        for (var k = 0; k <= t; k++) expected *= 1 - (0.0001 + k * (0.02 - 0.0001) / 999);
        Assert.Equal(expected, s.AlphaBar[t], 12);
        Assert.Equal(0.0001, s.Betas[0], 12);
        Assert.Equal(0.02, s.Betas[999], 12);
    }

    [Fact]
    public void TrailingTimestepsStartAtTheEnd()
    {
        var s = new NoiseSchedule(1000);
        Assert.Equal(new[] { 999, 799, 599, 399, 199 }, s.TrailingTimesteps(5));
        var fifty = s.TrailingTimesteps(50);
        Assert.Equal(999, fifty[0]);
        Assert.Equal(19, fifty[^1]);
        Assert.Equal(Enumerable.Range(0, 1000).Reverse().ToArray(), s.TrailingTimesteps(1000));
    }

    [Theory]
    [InlineData(PredictionKind.V)]
    [InlineData(PredictionKind.Epsilon)]
    public void AddNoiseAndConversionsRoundTrip(PredictionKind prediction)
    {
        using var scope = NewDisposeScope();
        var s = new NoiseSchedule(1000, ScheduleKind.Cosine, prediction);
        using var g = new Generator(5);
        var x0 = rand([4, 1, 8, 8], generator: g) * 2 - 1;
        var eps = randn([4, 1, 8, 8], generator: g);
        var t = tensor(new long[] { 0, 10, 500, 900 });
        var xt = s.AddNoise(x0, eps, t);
        // x_t's formula, per sample, independently.
        for (var i = 0; i < 4; i++)
        {
            var ab = s.AlphaBar[(int)t[i].item<long>()];
            var expected = Math.Sqrt(ab) * x0[i] + Math.Sqrt(1 - ab) * eps[i];
            Assert.True(allclose(expected, xt[i], 1e-5, 1e-6));
        }
        var target = s.Target(x0, eps, t);
        var (x0Back, epsBack) = s.Split(target, xt, t);
        Assert.True(allclose(x0Back, x0, 1e-4, 1e-4), $"x0 max error {(x0Back - x0).abs().max().item<float>()}");
        Assert.True(allclose(epsBack, eps, 1e-3, 1e-3), $"eps max error {(epsBack - eps).abs().max().item<float>()}");
        if (prediction == PredictionKind.V)
        {
            var ab = s.AlphaBar[500];
            var v = Math.Sqrt(ab) * eps[2] - Math.Sqrt(1 - ab) * x0[2];
            Assert.True(allclose(v, target[2], 1e-5, 1e-6));
        }
        else Assert.True(allclose(eps, target));
    }

    [Theory]
    [InlineData(PredictionKind.V, 10)]
    [InlineData(PredictionKind.Epsilon, 10)]
    [InlineData(PredictionKind.V, 1)]
    public void DdimOnAnOracleRecoversX0(PredictionKind prediction, int steps)
    {
        using var scope = NewDisposeScope();
        var s = new NoiseSchedule(1000, ScheduleKind.Cosine, prediction);
        using var g = new Generator(11);
        var x0 = (rand([2, 1, 8, 8], generator: g) * 1.8 - 0.9).to_type(ScalarType.Float64);
        var sampler = new DdimSampler(s, steps);
        var x = randn([2, 1, 8, 8], generator: g).to_type(ScalarType.Float64);
        for (var k = 0; k < sampler.Timesteps.Count; k++)
        {
            var t = full(2, (long)sampler.Timesteps[k], ScalarType.Int64);
            // The oracle: the exact eps that makes x_t from x0, and the target for it.
            var eps = s.EpsFromX0(x, x0, t);
            var output = s.Target(x0, eps, t);
            (x, _) = sampler.Step(output, k, x, null);
        }
        var err = (x - x0).abs().max().item<double>();
        Assert.True(err < 1e-6, $"DDIM on an oracle ended {err} from x0");
    }

    [Fact]
    public void DdpmOnAnOracleEndsAtX0()
    {
        using var scope = NewDisposeScope();
        var s = new NoiseSchedule(1000);
        using var g = new Generator(3);
        var x0 = (rand([2, 1, 8, 8], generator: g) * 1.8 - 0.9).to_type(ScalarType.Float64);
        var sampler = new DdpmSampler(s, 20);
        var x = randn([2, 1, 8, 8], generator: g).to_type(ScalarType.Float64);
        for (var k = 0; k < sampler.Timesteps.Count; k++)
        {
            var t = full(2, (long)sampler.Timesteps[k], ScalarType.Int64);
            var output = s.Target(x0, s.EpsFromX0(x, x0, t), t);
            var z = sampler.NeedsNoise(k) ? randn([2, 1, 8, 8], generator: g).to_type(ScalarType.Float64) : null;
            (x, _) = sampler.Step(output, k, x, z);
        }
        Assert.False(sampler.NeedsNoise(19));
        Assert.True(sampler.NeedsNoise(0));
        var err = (x - x0).abs().max().item<double>();
        Assert.True(err < 1e-6, $"DDPM on an oracle ended {err} from x0");
    }

    [Fact]
    public void PerSampleSeedsDiffer()
    {
        var seeds = Enumerable.Range(0, 100).Select(i => SampleNoise.SeedFor(1, i)).Concat(Enumerable.Range(0, 100).Select(i => SampleNoise.SeedFor(2, i))).ToHashSet();
        Assert.Equal(200, seeds.Count);
        Assert.Equal(SampleNoise.SeedFor(7, 3), SampleNoise.SeedFor(7, 3));
    }
}
