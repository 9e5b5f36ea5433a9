using Hypha.Models;
using Hypha.Models.ProgressiveVae;
using Hypha.Runs;
using Hypha.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Tests.Progressive;

/// <summary>Shapes, fade-in continuity, the schedule, configuration and checkpoints of the progressive VAE.</summary>
public sealed class ProgressiveModelTests
{
    static bool Same(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return a.shape.SequenceEqual(b.shape) && (a - b).abs().max().item<float>() == 0;
    }

    internal static ProgressiveVae Make(int chunk = 56, int width = 4, int latent = 8, bool equalized = true, bool pixelNorm = true,
        bool minibatchStd = false, int seed = 0)
    {
        manual_seed(seed);
        return new ProgressiveVae(new ProgressiveVaeOptions(1, chunk, width, latent,
            new ProgressiveOptions { EqualizedLr = equalized, PixelNorm = pixelNorm, MinibatchStd = minibatchStd }));
    }

    [Theory]
    [InlineData(56, true, true, false)]
    [InlineData(56, false, false, true)]
    [InlineData(224, true, true, true)]
    public void ShapesAtEveryStage(int chunk, bool equalized, bool pixelNorm, bool minibatchStd)
    {
        using var model = Make(chunk, width: 2, latent: 5, equalized, pixelNorm, minibatchStd);
        Assert.Equal(chunk == 56 ? 4 : 6, model.Stages);
        for (var stage = 0; stage < model.Stages; stage++)
            foreach (var alpha in new[] { 0.0, 0.5, 1.0 })
            {
                using var scope = NewDisposeScope();
                model.SetPosition(stage, alpha);
                var r = 7 << stage;
                Assert.Equal(r, model.Resolution);
                var x = rand(3, 1, chunk, chunk);
                var fitted = ModelInput.Fit(model, x);
                Assert.Equal([3L, 1, r, r], fitted.shape);
                var output = VaeMath.Forward(model, fitted);
                Assert.Equal([3L, 1, r, r], output.Reconstruction.shape);
                Assert.Equal([3L, 5], output.Mu.shape);
                Assert.Equal([3L, 5], output.LogVar.shape);
                Assert.Equal([3L, 1, r, r], model.Decode(randn(3, 5)).shape);
                var min = output.Reconstruction.min().item<float>();
                var max = output.Reconstruction.max().item<float>();
                Assert.InRange(min, 0f, 1f);
                Assert.InRange(max, 0f, 1f);
                var loss = VaeMath.Terms(fitted, output, 1.0);
                Assert.True(float.IsFinite(loss.Loss.item<float>()));
            }
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void AtAlphaZeroANewlyGrownNetworkGivesThePreviousStagesOutputResized(bool pixelNorm, bool minibatchStd)
    {
        using var model = Make(pixelNorm: pixelNorm, minibatchStd: minibatchStd);
        model.eval();
        using var noGrad = no_grad();
        for (var stage = 1; stage < model.Stages; stage++)
        {
            using var scope = NewDisposeScope();
            var r = 7 << stage;
            manual_seed(stage);
            var x = rand(4, 1, r, r);
            model.SetPosition(stage - 1, 1);
            var (muOld, logVarOld) = model.Encode(nn.functional.avg_pool2d(x, 2));
            var before = model.Decode(muOld);
            model.SetPosition(stage, 0);
            var (mu, logVar) = model.Encode(x);
            var after = model.Decode(mu);
            Assert.True(allclose(mu, muOld, rtol: 1e-5, atol: 1e-6), $"stage {stage}: encoder jumps at alpha 0");
            Assert.True(allclose(logVar, logVarOld, rtol: 1e-5, atol: 1e-6));
            var resized = nn.functional.interpolate(before, [r, r], mode: InterpolationMode.Nearest);
            Assert.True(allclose(after, resized, rtol: 1e-5, atol: 1e-6), $"stage {stage}: decoder jumps at alpha 0");
            // and the fade is continuous: a tiny alpha changes the output by a tiny amount
            model.SetPosition(stage, 1e-4);
            var (mu2, _) = model.Encode(x);
            Assert.True((model.Decode(mu2) - after).abs().max().item<float>() < 1e-3);
            // the area-averaged chunk is what the trainer feeds the previous stage: Fit(x) at r/2 equals avg_pool(x at r)
            Assert.True(allclose(nn.functional.interpolate(x, [r / 2, r / 2], mode: InterpolationMode.Area), nn.functional.avg_pool2d(x, 2), atol: 1e-6));
        }
    }

    [Fact]
    public void AtAlphaOneTheOldPathNoLongerContributes()
    {
        using var model = Make();
        model.eval();
        for (var stage = 1; stage < model.Stages; stage++)
        {
            using var scope = NewDisposeScope();
            var r = 7 << stage;
            manual_seed(10 + stage);
            var x = rand(2, 1, r, r);
            var z = randn(2, 8);
            string[] oldPath = [$"encoder.from_rgb.{stage - 1}.", $"decoder.to_rgb.{stage - 1}."];
            var oldParams = model.named_parameters().Where(p => oldPath.Any(p.name.StartsWith)).Select(p => p.parameter).ToList();
            Assert.Equal(4, oldParams.Count); // weight and bias of each 1x1 convolution

            Tensor Outputs(double alpha)
            {
                model.SetPosition(stage, alpha);
                using var noGrad = no_grad();
                return cat([model.Encode(x).Mu.flatten(), model.Decode(z).flatten()]);
            }
            var full = Outputs(1);
            var half = Outputs(0.5);
            using (no_grad()) foreach (var p in oldParams) p.add_(randn_like(p));
            Assert.True(Same(full, Outputs(1)), $"stage {stage}: old path still used at alpha 1");
            Assert.False(allclose(half, Outputs(0.5)), $"stage {stage}: old path unused at alpha 0.5");

            // and it gets no gradient at alpha 1 (so Adam leaves it alone)
            model.SetPosition(stage, 1);
            model.zero_grad();
            var output = VaeMath.Forward(model, x);
            VaeMath.Terms(x, output, 1).Loss.backward();
            Assert.All(oldParams, p => Assert.True(p.grad is null || p.grad.abs().sum().item<float>() == 0));
        }
    }

    [Fact]
    public void BlocksOfLaterStagesAreNotMovedByAdam()
    {
        using var model = Make(seed: 5);
        model.train();
        using var adam = optim.Adam(model.parameters(), 1e-2);
        model.SetPosition(1, 0.5);
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        for (var i = 0; i < 3; i++)
        {
            using var scope = NewDisposeScope();
            var x = rand(4, 1, 14, 14);
            adam.zero_grad();
            VaeMath.Terms(x, VaeMath.Forward(model, x), 1).Loss.backward();
            adam.step();
        }
        foreach (var (name, p) in model.named_parameters())
        {
            bool inactive = name.Contains("from_rgb.2.") || name.Contains("from_rgb.3.") || name.Contains("to_rgb.2.") || name.Contains("to_rgb.3.")
                            || name.Contains("blocks.2.") || name.Contains("blocks.3.");
            bool moved = !Same(before[name], p);
            if (inactive) Assert.False(moved, $"{name} moved although its stage is not reached");
            if (name.StartsWith("encoder.blocks.1.") || name.StartsWith("decoder.blocks.0.")) Assert.True(moved, $"{name} is not trained");
        }
    }

    [Fact]
    public void ScaleReconstructionWeightsEachStageLikeTheLastOne()
    {
        using var scope = NewDisposeScope();
        manual_seed(6);
        var progressive = new ProgressiveOptions { ScaleReconstruction = true };
        using var model = new ProgressiveVae(new ProgressiveVaeOptions(1, 56, 4, 8, progressive),
            new ProVaeOptions { Width = 4, Latent = 8, Beta = 0.5, Progressive = progressive });
        model.eval();
        model.SetPosition(1, 1);
        var x = rand(2, 1, 14, 14);
        var validation = new LossContext(0, Validation: true);
        var terms = model.Loss(x, validation);
        var plain = VaeMath.Terms(x, VaeMath.Forward(model, x, deterministic: true), 0.5);
        Assert.Equal(plain.Reconstruction.item<float>(), terms.Reconstruction.item<float>());
        Assert.Equal(plain.Loss.item<float>(), terms.Loss.item<float>()); // reported terms unchanged
        var expected = plain.Reconstruction.item<float>() * 16 + 0.5 * plain.Kl.item<float>();
        Assert.True(Math.Abs(terms.Objective.item<float>() - expected) < 1e-4 * expected, $"{terms.Objective.item<float>()} vs {expected}");
        model.SetPosition(3, 1);
        var x56 = rand(2, 1, 56, 56);
        var at56 = model.Loss(x56, validation);
        Assert.Equal(at56.Loss.item<float>(), at56.Objective.item<float>());
    }

    [Fact]
    public void ScheduleMapsImagesSeenToStageAndAlpha()
    {
        var s = new ProgressiveSchedule(Stages: 4, StartResolution: 7, EpochsPerStage: 2, FadeImagesSetting: 50);
        Assert.Equal(new ProgressivePosition(0, 1, 7), s.At(0, 100));
        Assert.Equal(new ProgressivePosition(0, 1, 7), s.At(199, 100));
        Assert.Equal(new ProgressivePosition(1, 0, 14), s.At(200, 100));
        Assert.Equal(new ProgressivePosition(1, 0.5, 14), s.At(225, 100));
        Assert.Equal(new ProgressivePosition(1, 1, 14), s.At(250, 100));
        Assert.Equal(new ProgressivePosition(1, 1, 14), s.At(399, 100));
        Assert.Equal(new ProgressivePosition(3, 0.2, 56), s.At(610, 100));
        Assert.Equal(new ProgressivePosition(3, 1, 56), s.At(5000, 100)); // the last stage goes on
        // fade 0: half a stage
        var half = s with { FadeImagesSetting = 0 };
        Assert.Equal(0.5, half.At(250, 100).Alpha, 12);
        Assert.Equal(1.0, half.At(300, 100).Alpha, 12);
    }

    [Fact]
    public void ChunkMustBeSevenTimesAPowerOfTwo()
    {
        var o = new ProVaeOptions { Width = 4, Latent = 8 };
        var e = Assert.Throws<HyphaException>(() => o.Descriptor.ValidateShape(o, 1, 64));
        Assert.Equal(ExitCode.InvalidConfig, e.Code);
        Assert.Contains("7 x 2^k", e.Message);
        Assert.Throws<HyphaException>(() => o.Descriptor.ValidateShape(o, 1, 7));
        o.Descriptor.ValidateShape(o, 1, 14);
        o.Descriptor.ValidateShape(o, 3, 224);
        Assert.Equal(6, new ProgressiveOptions().Stages(224));
        Assert.Equal(180, new ProgressiveOptions().TotalEpochs(224));
        Assert.Throws<HyphaException>(() => (o with { Progressive = new() { EpochsPerStage = 0 } }).Validate());
        using var model = o.Descriptor.Create(o, 1, 56);
        Assert.IsType<ProgressiveVae>(model);
    }

    [Fact]
    public void ProgressiveSettingsRoundTripThroughConfigJson()
    {
        var config = Presets.ProvaeCpu with
        {
            Model = (ProVaeOptions)Presets.ProvaeCpu.Model with
            {
                Progressive = new() { EpochsPerStage = 5, FadeImages = 1234, EqualizedLr = false, PixelNorm = false, MinibatchStd = true },
            },
        };
        var json = ConfigJson.Serialize(config);
        Assert.Contains("\"kind\": \"provae\"", json);
        Assert.Contains("\"epochs_per_stage\": 5", json);
        Assert.Contains("\"fade_images\": 1234", json);
        Assert.Contains("\"minibatch_std\": true", json);
        var back = ConfigJson.Deserialize(json);
        Assert.Equal(config.Model, back.Model);
        // a ResNet-18 VAE config does not grow a progressive section
        Assert.DoesNotContain("progressive", ConfigJson.Serialize(Presets.Cpu));
        Assert.Equal(180, Presets.Provae.Train.Epochs);
        Assert.Equal(5e-4, Presets.Provae.Train.Lr);
        Assert.Equal(30, ((ProVaeOptions)Presets.Provae.Model).Progressive.EpochsPerStage);
        Presets.Provae.Validated();
        Presets.ProvaeCpu.Validated();
    }

    [Fact]
    public void CheckpointHoldsTheSameParametersAtEveryStageAndRestoresThePosition()
    {
        var dir = Directory.CreateTempSubdirectory("hypha-provae-ckpt").FullName;
        try
        {
            using var model = Make(seed: 7);
            var names0 = model.state_dict().Keys.ToList();
            model.SetPosition(2, 0.375);
            Assert.Equal(names0, model.state_dict().Keys.ToList());
            var options = new ProVaeOptions { Width = 4, Latent = 8 };
            var path = Path.Combine(dir, "last.ckpt");
            Checkpoint.Save(path, new CheckpointHeader(Checkpoint.CurrentFormat, options, 1, 56, 3, 1, 10, 1000, 0, false, DateTime.UtcNow), model, null);
            using var loaded = Make(seed: 8);
            Assert.Equal(0, loaded.Stage);
            Checkpoint.Load(path, loaded, options, 1, 56, null);
            Assert.Equal(2, loaded.Stage);
            Assert.Equal(0.375, loaded.Alpha);
            Assert.Equal(28, loaded.Resolution);
            using var scope = NewDisposeScope();
            model.eval();
            loaded.eval();
            var z = randn(2, 8);
            using var noGrad = no_grad();
            Assert.True(Same(model.Decode(z), loaded.Decode(z)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
