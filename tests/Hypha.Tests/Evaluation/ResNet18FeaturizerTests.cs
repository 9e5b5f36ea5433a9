using Hypha.Evaluation;
using static TorchSharp.torch;

namespace Hypha.Tests.Evaluation;

public sealed class ResNet18FeaturizerTests : IClassFixture<ResNet18FeaturizerTests.Fixture>
{
    public sealed class Fixture : IDisposable
    {
        public ResNet18Featurizer Featurizer { get; } = new();
        public void Dispose() => Featurizer.Dispose();
    }

    readonly ResNet18Featurizer featurizer;
    public ResNet18FeaturizerTests(Fixture fixture) => featurizer = fixture.Featurizer;

    [Fact]
    public void Model_files_are_copied_to_the_output()
    {
        Assert.True(File.Exists(Path.Combine(ResNet18Featurizer.DefaultModelDir, "ResNet18Onnx", "ResNet18.onnx")));
        Assert.True(File.Exists(Path.Combine(ResNet18Featurizer.DefaultModelDir, "ResNetPrepOnnx", "ResNetPreprocess.onnx")));
    }

    [Fact]
    public void Real_chunks_give_512_finite_distinct_features()
    {
        using var scope = NewDisposeScope();
        var chunks = TestImages.AmfChunks;
        var f = featurizer.Extract(chunks[40..42]);
        Assert.Equal(new long[] { 2, 512 }, f.shape);
        Assert.True(f.isfinite().all().item<bool>());
        Assert.True(f.abs().sum(1).min().item<float>() > 0);
        Assert.True((f[0] - f[1]).abs().max().item<float>() > 1e-3);
        // The same chunk as 3 equal channels is the same input after gray replication.
        var rgb = featurizer.Extract(chunks[40..41].expand(-1, 3, -1, -1));
        Assert.True((rgb[0] - f[0]).abs().max().item<float>() < 1e-4);
    }

    [Fact]
    public void Rgb_chunks_give_finite_features_that_see_colour()
    {
        using var scope = NewDisposeScope();
        var rgb = TestImages.AmfRgbChunks();
        var f = featurizer.Extract(rgb[..2]);
        Assert.Equal(new long[] { 2, 512 }, f.shape);
        Assert.True(f.isfinite().all().item<bool>());
        var gray = rgb[..2].mean([1], keepdim: true);
        var g = featurizer.Extract(gray);
        Assert.True((f - g).abs().max().item<float>() > 1e-3); // colour information reaches the features
    }

    [Fact]
    public void Preprocess_replicates_gray_resizes_and_scales()
    {
        using var scope = NewDisposeScope();
        var x = full(new long[] { 1, 1, 64, 64 }, 0.5f);
        var p = ResNet18Featurizer.Preprocess(x);
        Assert.Equal(new long[] { 1, 3, 224, 224 }, p.shape);
        Assert.True((p - 127.5f).abs().max().item<float>() < 1e-3);
    }

    [Fact]
    public void Fd_resnet18_is_zero_for_identical_sets_and_positive_for_noise()
    {
        using var scope = NewDisposeScope();
        var chunks = TestImages.AmfChunks;
        using var inputs = new EvaluationInputs
        {
            TrainReal = chunks[..8], TestRealA = chunks[40..48], TestRealB = chunks[50..58], Samples = chunks[40..48],
        };
        var metric = new FrechetDistanceMetric(featurizer);
        Assert.Equal("fd_resnet18", metric.Name);
        var same = metric.Compute(inputs);
        Assert.InRange(same.Value, -1e-2, 1e-2);
        Assert.True(same.Floor > 1, $"floor {same.Floor}");
        using var noisy = new EvaluationInputs
        {
            TrainReal = chunks[..8], TestRealA = chunks[40..48], TestRealB = chunks[50..58],
            Samples = TestImages.Noisy(chunks[50..58], 0.3, 1),
        };
        var n = metric.Compute(noisy);
        Assert.True(n.Value > n.Floor, $"noise {n.Value} vs floor {n.Floor}");
    }
}
