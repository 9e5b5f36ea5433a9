using Hypha.Evaluation;
using static TorchSharp.torch;

namespace Hypha.Tests.Evaluation;

public class PsnrTests
{
    [Fact]
    public void Psnr_matches_the_closed_form()
    {
        using var scope = NewDisposeScope();
        var x = full(new long[] { 2, 1, 8, 8 }, 0.5, dtype: float32);
        var y = x.clone();
        y[0] += 0.1f;   // MSE 0.01 -> 20 dB
        y[1] -= 0.01f;  // MSE 1e-4 -> 40 dB
        var p = PsnrMetric.PerImage(x, y);
        Assert.Equal(20, p[0].item<double>(), 4);
        Assert.Equal(40, p[1].item<double>(), 3);
        Assert.Equal(100, PsnrMetric.PerImage(x, x)[0].item<double>(), 9); // capped by MinMse
    }

    [Fact]
    public void Psnr_and_ssim_metrics_report_value_floor_and_counts()
    {
        using var scope = NewDisposeScope();
        var chunks = TestImages.AmfChunks;
        var originals = chunks[60..80];
        using var inputs = new EvaluationInputs
        {
            TrainReal = chunks[..60], TestRealA = chunks[60..95], TestRealB = chunks[95..130],
            Originals = originals, Reconstructions = TestImages.Blurred(originals), Seed = 11,
        };
        foreach (IMetric metric in new IMetric[] { new PsnrMetric(), new SsimMetric() })
        {
            Assert.Null(metric.MissingInputs(inputs));
            var r = metric.Compute(inputs);
            Assert.True(r.Value > r.Floor!.Value, $"{r.Name}: {r.Value} vs floor {r.Floor}");
            Assert.Equal(20, r.Counts["reconstructions"]);
            Assert.Equal(35, r.Counts["floor_pairs"]);
            Assert.Equal(11, r.Seed);
        }
        using var empty = new EvaluationInputs { TrainReal = chunks[..2], TestRealA = chunks[2..4], TestRealB = chunks[4..6] };
        Assert.Equal("no reconstructions", new PsnrMetric().MissingInputs(empty));
    }
}
