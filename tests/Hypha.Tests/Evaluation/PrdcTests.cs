using Hypha.Evaluation;
using static TorchSharp.torch;

namespace Hypha.Tests.Evaluation;

public class PrdcTests
{
    [Fact]
    public void Identical_sets_score_one()
    {
        using var scope = NewDisposeScope();
        var x = randn([200, 5], dtype: float64, generator: new Generator(1));
        var v = Prdc.Compute(x, x);
        Assert.Equal(1, v.Precision);
        Assert.Equal(1, v.Recall);
        Assert.Equal(1, v.Coverage);
        Assert.Equal(1, v.Density, 9); // each ball holds its centre and k - 1 neighbours
    }

    [Fact]
    public void Disjoint_sets_score_zero_and_collapse_keeps_precision_but_loses_recall()
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(2);
        var real = randn([300, 5], dtype: float64, generator: gen);
        var far = randn([300, 5], dtype: float64, generator: gen) + 20;
        var v = Prdc.Compute(real, far);
        Assert.Equal(new PrdcValues(0, 0, 0, 0), v);
        var collapsed = 0.1 * randn([300, 5], dtype: float64, generator: gen);
        var c = Prdc.Compute(real, collapsed);
        Assert.True(c.Precision > 0.9, $"precision {c.Precision}");
        Assert.True(c.Recall < 0.2, $"recall {c.Recall}");
        Assert.True(c.Coverage < 0.3, $"coverage {c.Coverage}");
        var twin = Prdc.Compute(real, randn([300, 5], dtype: float64, generator: gen));
        Assert.InRange(twin.Precision, 0.6, 1);
        Assert.InRange(twin.Recall, 0.6, 1);
    }

    [Fact]
    public void Metrics_use_features_of_samples_against_test_half_a()
    {
        using var scope = NewDisposeScope();
        var chunks = TestImages.AmfChunks;
        using var inputs = new EvaluationInputs
        {
            TrainReal = chunks[..50], TestRealA = chunks[50..90], TestRealB = chunks[90..130],
            Samples = chunks[50..90],
        };
        var fx = new PooledPixels();
        foreach (IMetric m in new IMetric[] { new PrecisionMetric(fx), new RecallMetric(fx), new CoverageMetric(fx) })
        {
            var r = m.Compute(inputs);
            Assert.Equal(1, r.Value);             // samples identical to the reference set
            Assert.True(r.Floor < 1, $"{r.Name} floor {r.Floor}");
            Assert.Equal("pooled4", r.FeatureSpace);
            Assert.Equal(5, r.Parameters["k"]);
        }
        Assert.Equal(1, new DensityMetric(fx).Compute(inputs).Value, 9);
    }
}
