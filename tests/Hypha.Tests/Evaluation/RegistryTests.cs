using Hypha.Evaluation;
using static TorchSharp.torch;

namespace Hypha.Tests.Evaluation;

public class RegistryTests
{
    [Fact]
    public void Default_registry_holds_every_metric_by_its_key()
    {
        using var registry = MetricRegistry.CreateDefault();
        string[] expected = ["psnr", "ssim", "iwae_bits_per_dim", "swd", "ms_ssim", "fd_resnet18", "kid",
            "precision", "recall", "density", "coverage", "memorization"];
        Assert.Equal(expected, registry.Names);
        foreach (var name in expected.Where(n => n is not ("fd_resnet18" or "kid" or "precision" or "recall" or "density" or "coverage")))
        {
            var m = registry.Create(name);
            Assert.Equal(name, m.Name);
            Assert.True(m.Version >= 1);
        }
        Assert.Throws<KeyNotFoundException>(() => registry.Create("fid"));
    }

    [Fact]
    public void Evaluator_skips_what_is_missing_and_metrics_jsonl_gets_one_line_per_evaluation()
    {
        using var scope = NewDisposeScope();
        var chunks = TestImages.AmfChunks;
        using var registry = new MetricRegistry()
            .Register(PsnrMetric.Key, () => new PsnrMetric())
            .Register(SwdMetric.Key, () => new SwdMetric { PatchesPerImage = 16 })
            .Register(IwaeMetric.Key, () => new IwaeMetric())
            .Register(MemorizationMetric.Key, () => new MemorizationMetric { PairsReturned = 3 })
            .Register("kid", () => new KidMetric(new PooledPixels()) { Subsets = 5 });
        var test = chunks[60..130];
        using var inputs = EvaluationInputs.FromTestSplit(chunks[..60], test, seed: 9,
            samples: TestImages.Noisy(chunks[60..95], 0.05, 2), originals: test[..10], reconstructions: TestImages.Noisy(test[..10], 0.05, 3));
        Assert.Equal(35, inputs.TestRealA.shape[0]);
        Assert.Equal(35, inputs.TestRealB.shape[0]);

        var record = Evaluator.Run(registry, inputs, context: new Dictionary<string, string> { ["run"] = "test-run", ["step"] = "100" });
        Assert.Equal(["psnr", "swd", "memorization", "kid"], record.Metrics.Select(m => m.Name));
        Assert.Equal("no model", record.Skipped["iwae_bits_per_dim"]);
        Assert.Equal(9, record.Seed);

        var dir = Directory.CreateTempSubdirectory("hypha-eval-");
        try
        {
            var path = Path.Combine(dir.FullName, "run", "metrics.jsonl");
            MetricsJsonl.Append(path, record);
            MetricsJsonl.Append(path, record);
            var lines = File.ReadAllLines(path);
            Assert.Equal(2, lines.Length);
            Assert.Contains("\"floor\":", lines[0]);
            Assert.Contains("\"version\":1", lines[0]);
            Assert.Contains("\"closest_pairs\":[{\"sample_index\":", lines[0]);
            var back = MetricsJsonl.ReadAll(path);
            Assert.Equal(2, back.Count);
            var psnr = back[1].Metrics[0];
            Assert.Equal(record.Metrics[0].Value, psnr.Value);
            Assert.Equal(record.Metrics[0].Floor, psnr.Floor);
            Assert.Equal(record.Metrics[0].Counts, psnr.Counts);
            Assert.Equal("test-run", back[0].Context["run"]);
            Assert.Equal(3, back[0].Metrics.Single(m => m.Name == "memorization").ClosestPairs!.Count);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void Infinite_and_nan_values_survive_the_round_trip()
    {
        var r = new MetricResult("x", 1, double.PositiveInfinity, double.NaN, true,
            new Dictionary<string, double>(), new Dictionary<string, double>(), new Dictionary<string, int>(),
            new Dictionary<string, double>(), 0);
        var rec = new EvaluationRecord(DateTimeOffset.UnixEpoch, 0, new Dictionary<string, string>(), [r], new Dictionary<string, string>());
        var back = MetricsJsonl.Deserialize(MetricsJsonl.Serialize(rec));
        Assert.Equal(double.PositiveInfinity, back.Metrics[0].Value);
        Assert.True(double.IsNaN(back.Metrics[0].Floor!.Value));
    }
}
