using System.Text.Json;
using Hypha.Imaging;
using Hypha.Models;
using Hypha.Models.Diffusion;
using Hypha.Runs;
using Hypha.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Hypha.Tests.Diffusion;

public class DiffusionModelTests(ITestOutputHelper output)
{
    /// <summary>A tiny model at 16x16 whose EMA network has random (nonzero) weights, so samples depend on the network.</summary>
    static DiffusionModel Tiny(int channels = 1, int resolution = 16)
    {
        var model = new DiffusionModel(new DiffusionOptions { Width = 8, ChannelMult = [1, 2], ResBlocks = 1, AttentionResolutions = [8], SampleSteps = 5 },
            channels, resolution);
        using var g = new Generator(123);
        using (no_grad())
            foreach (var p in model.Average.parameters()) p.add_(randn(p.shape, generator: g) * 0.05);
        return model;
    }

    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && !a.ne(b).any().item<bool>();

    [Fact]
    public void DdimIsDeterministicForASeedAndDiffersForAnother()
    {
        using var model = Tiny();
        using var a = model.Sample(new SampleRequest(4, 7));
        using var b = model.Sample(new SampleRequest(4, 7));
        using var c = model.Sample(new SampleRequest(4, 8));
        Assert.Equal(new long[] { 4, 1, 16, 16 }, a.shape);
        Assert.True(Same(a, b), "two DDIM runs of one seed differ");
        Assert.False(allclose(a, c), "two seeds gave the same samples");
        Assert.False(allclose(a[0], a[1]), "two samples of one request are equal");
        Assert.True(a.min().item<float>() >= 0 && a.max().item<float>() <= 1);
        Assert.Equal(ScalarType.Float32, a.dtype);
    }

    [Theory]
    [InlineData("ddim", null)]
    [InlineData("ddim", 1.0)]
    [InlineData("ddpm", null)]
    public void ASampleDoesNotDependOnBatchOrSlicing(string sampler, double? eta)
    {
        using var model = Tiny();
        var settings = new SamplerSettings { Sampler = sampler, Eta = eta };
        var progress = new List<int>();
        using var all = model.Sample(new SampleRequest(8, 3) { Batch = 8, Settings = settings });
        using var sliced = model.Sample(new SampleRequest(3, 3) { Start = 3, Batch = 2, Settings = settings, Progress = progress.Add });
        using var part = all.narrow(0, 3, 3);
        var diff = (part - sliced).abs().max().item<float>();
        Assert.True(diff < 1e-5, $"samples 3..5 differ by {diff} when made as a slice in batches of 2");
        Assert.Equal(new[] { 2, 3 }, progress);
    }

    [Fact]
    public void EachDenoisingStepIsReported()
    {
        using var model = Tiny();
        var steps = new List<(int, int)>();
        using var _ = model.Sample(new SampleRequest(3, 0) { Batch = 2, Settings = new SamplerSettings { Steps = 4 }, StepProgress = (s, n) => steps.Add((s, n)) });
        var batch = Enumerable.Range(1, 4).Select(s => (s, 4)).ToList();
        Assert.Equal(batch.Concat(batch), steps); // two batches (2 + 1 images), four steps each
    }

    [Fact]
    public void UnknownSamplerAndMisplacedEtaAreRefused()
    {
        using var model = Tiny();
        var e = Assert.Throws<HyphaException>(() => model.Sample(new SampleRequest(1, 1) { Settings = new SamplerSettings { Sampler = "euler" } }));
        Assert.Contains("unknown sampler 'euler'", e.Message);
        Assert.Contains("ddim, ddpm", e.Message);
        Assert.DoesNotContain("\n", e.Message);
        Assert.Throws<HyphaException>(() => model.Sample(new SampleRequest(1, 1) { Settings = new SamplerSettings { Sampler = "ddpm", Eta = 0.5 } }));
        Assert.Throws<HyphaException>(() => new DiffusionOptions { Sampler = "plms" }.Validate());
    }

    [Fact]
    public void TrajectoryEndsAtTheSample()
    {
        using var model = Tiny(3);
        using var frames = model.Trajectory(5, 4, CPU, new SamplerSettings());
        using var sample = model.Sample(new SampleRequest(1, 5));
        Assert.Equal(new long[] { 4, 3, 16, 16 }, frames.shape);
        Assert.True(allclose(frames[3], sample[0], 1e-5, 1e-5), "the last frame is not sample 0 of the seed");
        Assert.False(allclose(frames[0], frames[3]), "the first estimate already equals the sample");
    }

    [Fact]
    public void EmaIsNotOptimizedAndFollowsTheOnlineWeights()
    {
        using var model = new DiffusionModel(new DiffusionOptions { Width = 8, ChannelMult = [1, 2], ResBlocks = 1, AttentionResolutions = [], EmaDecay = 0.9 }, 1, 16);
        Assert.Contains(model.state_dict().Keys, k => k.StartsWith("ema."));
        Assert.Contains(model.state_dict().Keys, k => k.StartsWith("net."));
        using var optimizer = TrainingOptimizer.For(model, 1e-3);
        var online = model.Online.parameters().Sum(p => p.numel());
        Assert.Equal(online, ((FlatAdam)optimizer).Count);
        Assert.Equal(2 * online, model.parameters().Sum(p => p.numel()));

        var before = model.Average.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        using var g = new Generator(1);
        using var x = rand([4, 1, 16, 16], generator: g);
        var terms = model.Loss(x, new LossContext(0, g));
        optimizer.ZeroGrad();
        terms.Objective.backward();
        optimizer.Step();
        Assert.All(model.Average.named_parameters(), p => Assert.True(Same(p.parameter, before[p.name]), $"{p.name} moved with the optimizer"));
        model.AfterStep(1);
        var d = Math.Min(0.9, 2.0 / 11.0);
        var onlineNow = model.Online.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in model.Average.named_parameters())
            Assert.True(allclose(d * before[name] + (1 - d) * onlineNow[name], p, 1e-5, 1e-7), $"{name} is not the EMA");
        foreach (var t in before.Values) t.Dispose();
    }

    /// <summary>Checkpoints write the module's state dict (StateDictFile), so the EMA weights survive a save and load
    /// bit for bit, channels-last storage included, and samples of the reloaded model equal the original's.</summary>
    [Fact]
    public void EmaWeightsSurviveTheStateDictFile()
    {
        using var model = Tiny();
        Hypha.Models.Layers.Autocast.StoreChannelsLast(model);
        using var other = new DiffusionModel(model.Options, 1, 16);
        Hypha.Models.Layers.Autocast.StoreChannelsLast(other);
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) StateDictFile.Write(w, model);
        stream.Position = 0;
        using (var r = new BinaryReader(stream)) StateDictFile.Read(r, other);
        var theirs = other.Average.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.All(model.Average.named_parameters(), p => Assert.True(Same(p.parameter, theirs[p.name]), $"ema {p.name} differs after loading"));
        Assert.All(other.Average.parameters(), p => Assert.False(p.requires_grad));
        using var a = model.Sample(new SampleRequest(2, 4));
        using var b = other.Sample(new SampleRequest(2, 4));
        Assert.True(Same(a, b), "the reloaded model samples differently");
    }

    [Fact]
    public void OptionsRoundTripThroughJsonAndCompareByValue()
    {
        var o = new DiffusionOptions { Width = 24, ChannelMult = [1, 2, 2, 2], AttentionResolutions = [16, 8], Prediction = PredictionKind.Epsilon, Schedule = ScheduleKind.Linear };
        var json = ConfigJson.SerializeModel(o);
        output.WriteLine(json);
        Assert.Contains("\"channel_mult\":[1,2,2,2]", json.Replace(" ", "").Replace("\n", "").Replace("\r", ""));
        var back = JsonSerializer.Deserialize<ModelOptions>(json, ConfigJson.Options);
        Assert.Equal<ModelOptions>(o, back!);
        Assert.Equal(o with { ChannelMult = [1, 2, 2, 2] }, o);
        Assert.NotEqual(o with { ChannelMult = [1, 2, 2, 4] }, o);
        Assert.Equal("diffusion", o.Kind);
        Assert.Equal("w24", o.Descriptor.FolderTag(o));
    }

    [Fact]
    public void DescriptorRefusesABadChunkSize()
    {
        var d = ModelRegistry.Get("diffusion");
        var e = Assert.Throws<HyphaException>(() => d.ValidateShape(new DiffusionOptions(), 1, 60));
        Assert.Contains("multiple of 8", e.Message);
        d.ValidateShape(new DiffusionOptions(), 1, 64);
        using var model = d.Create(new DiffusionOptions { Width = 8, ChannelMult = [1, 2] }, 3, 16);
        Assert.Equal(3, model.Channels);
        Assert.Equal(d.Terms.Select(t => t.Name), model.Loss(torch.rand(2, 3, 16, 16), new LossContext(0)).Reported.Keys);
    }

    /// <summary>Real 32x32 AMF chunks: area-downsampled by 4, cut at seeded random places.</summary>
    static Tensor AmfChunks(int count, int seed)
    {
        var path = Directory.GetFiles(SharedData.Path("amf_ink_roots"), "*.jpg").Order().First();
        var image = Normalization.Apply(ImageReader.Read(path)[0].To(ChannelMode.Gray), NormalizeMode.Percentile);
        using var scope = NewDisposeScope();
        var full = tensor(image.Data, [1, 1, image.Height, image.Width]);
        var small = nn.functional.avg_pool2d(full, 4);
        long h = small.shape[2], w = small.shape[3];
        var rng = new Random(seed);
        var crops = Enumerable.Range(0, count).Select(_ => small[.., .., TensorIndex.Slice(rng.Next((int)h - 32), null), TensorIndex.Slice(rng.Next((int)w - 32), null)])
            .Select(c => c.narrow(2, 0, 32).narrow(3, 0, 32)).ToArray();
        return cat(crops, 0).clamp(0, 1).MoveToOuterDisposeScope();
    }

    [Fact]
    public void LossFallsOnRealChunks()
    {
        using var scope = NewDisposeScope();
        manual_seed(0);
        var total = System.Diagnostics.Stopwatch.StartNew();
        var train = AmfChunks(256, 1);
        var held = AmfChunks(64, 2);
        using var model = new DiffusionModel(new DiffusionOptions { Width = 8, ChannelMult = [1, 2], ResBlocks = 1, AttentionResolutions = [16] }, 1, 32);
        using var optimizer = TrainingOptimizer.For(model, 2e-3);
        double Score()
        {
            using var s = NewDisposeScope();
            using var g = new Generator(99);
            using var _ = no_grad();
            return model.Loss(held, new LossContext(0, g, Validation: true)).Values()["x0_mse"];
        }
        var before = Score();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (var step = 1; step <= 30; step++)
        {
            using var s = NewDisposeScope();
            var idx = randint(0, train.shape[0], [8]);
            var terms = model.Loss(train.index_select(0, idx), new LossContext(step * 8));
            optimizer.ZeroGrad();
            terms.Objective.backward();
            optimizer.Step();
            model.AfterStep(step);
        }
        var after = Score();
        output.WriteLine($"held-out x0_mse {before:F4} -> {after:F4} in 30 steps of 8 ({sw.Elapsed.TotalSeconds:F1} s training, {total.Elapsed.TotalSeconds:F1} s in all)");
        Assert.True(after < 0.7 * before, $"x0_mse fell only from {before:F4} to {after:F4}");
    }
}
