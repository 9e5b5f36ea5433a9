using Hypha.Models;
using Hypha.Models.Adversarial;
using Hypha.Models.ProgressiveVae;
using Hypha.Models.ResNetVae;
using Hypha.Tests.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Tests.Models;

/// <summary>The sharper VAE losses (issue 12): the adversarial formulas, VQGAN's adaptive weight, the patch
/// discriminator's shape, and how <see cref="VaeLoss"/> puts the terms together.</summary>
public sealed class VaeLossTests
{
    // Logits of two images with 2x2 patches each, chosen to land on both sides of the hinge margins.
    static readonly float[] Real = [2.0f, 0.5f, -0.5f, 1.0f, 1.5f, -2.0f, 0.0f, 3.0f];
    static readonly float[] Fake = [-2.0f, -0.5f, 0.5f, -1.0f, 0.25f, 1.5f, -3.0f, 0.0f];

    static Tensor Logits(float[] v) => tensor(v, [2, 1, 2, 2]);

    [Fact]
    public void Hinge_losses_match_their_formulas()
    {
        using var scope = NewDisposeScope();
        // D: 0.5 (mean max(0, 1 - real) + mean max(0, 1 + fake)); G: -mean fake.
        var expectedD = 0.5 * (Real.Average(r => Math.Max(0, 1 - r)) + Fake.Average(f => Math.Max(0, 1 + f)));
        var expectedG = -Fake.Average(f => (double)f);
        Assert.Equal(expectedD, AdversarialMath.DiscriminatorLoss(AdversarialLoss.Hinge, Logits(Real), Logits(Fake)).item<float>(), 5);
        Assert.Equal(expectedG, AdversarialMath.GeneratorLoss(AdversarialLoss.Hinge, Logits(Fake)).item<float>(), 5);
        // Logits past both margins cost the discriminator nothing.
        Assert.Equal(0, AdversarialMath.DiscriminatorLoss(AdversarialLoss.Hinge, full(2, 1, 2, 2, 1.5f), full(2, 1, 2, 2, -1.5f)).item<float>());
    }

    [Fact]
    public void Least_squares_losses_match_their_formulas()
    {
        using var scope = NewDisposeScope();
        // D: 0.5 (mean (real - 1)^2 + mean fake^2); G: mean (fake - 1)^2.
        var expectedD = 0.5 * (Real.Average(r => (r - 1.0) * (r - 1.0)) + Fake.Average(f => (double)f * f));
        var expectedG = Fake.Average(f => (f - 1.0) * (f - 1.0));
        Assert.Equal(expectedD, AdversarialMath.DiscriminatorLoss(AdversarialLoss.LeastSquares, Logits(Real), Logits(Fake)).item<float>(), 5);
        Assert.Equal(expectedG, AdversarialMath.GeneratorLoss(AdversarialLoss.LeastSquares, Logits(Fake)).item<float>(), 5);
    }

    [Fact]
    public void Adaptive_weight_is_the_ratio_of_gradient_norms_at_the_last_layer()
    {
        using var scope = NewDisposeScope();
        // A "decoder" of two layers, the last a 2x3 matrix W: y = W relu(A x). rec = sum (y - t)^2, adv = -mean(c * y).
        var gen = new Generator(11);
        var a = randn([3, 4], generator: gen).requires_grad_(true);
        var w = randn([2, 3], generator: gen).requires_grad_(true);
        var x = randn([4, 5], generator: gen);
        var t = randn([2, 5], generator: gen);
        var c = randn([2, 5], generator: gen);
        var h = nn.functional.relu(a.matmul(x));
        var y = w.matmul(h);
        var rec = (y - t).square().sum();
        var adv = -(c * y).mean();
        var weight = AdversarialMath.AdaptiveWeight(rec, adv, w).item<float>();

        // By hand: d rec / dW = 2 (y - t) h^T, d adv / dW = -(c / n) h^T.
        double expected;
        using (no_grad())
        {
            var gRec = (2 * (y - t)).matmul(h.t());
            var gAdv = (-c / c.numel()).matmul(h.t());
            expected = gRec.norm().item<float>() / (gAdv.norm().item<float>() + 1e-4);
        }
        Assert.Equal(expected, weight, expected * 1e-5);
        // Neither gradient went into .grad, and the graph is still there for the backward pass.
        Assert.True(w.grad is null || w.grad.IsInvalid || w.grad.abs().sum().item<float>() == 0);
        (rec + weight * adv).backward();
        Assert.True(w.grad!.abs().sum().item<float>() > 0);
        Assert.True(a.grad!.abs().sum().item<float>() > 0);

        // An adversarial term that does not reach the layer: the weight is clamped at VQGAN's 1e4.
        var w2 = randn([2, 3], generator: gen).requires_grad_(true);
        var y2 = w2.matmul(h.detach());
        var none = AdversarialMath.AdaptiveWeight((y2 - t).square().sum() + 1e9 * w2.sum(), (c * 0).sum() + 0 * y2.sum(), w2).item<float>();
        Assert.Equal(AdversarialMath.MaxAdaptiveWeight, none, 1e-3);
    }

    [Theory]
    [InlineData(64, 3)]
    [InlineData(64, 2)]
    [InlineData(32, 1)]
    [InlineData(56, 3)]
    [InlineData(224, 4)]
    public void Patch_discriminator_gives_the_logit_map_its_size_formula_says(int side, int layers)
    {
        using var scope = NewDisposeScope();
        using var d = new PatchDiscriminator(1, 4, layers);
        var logits = d.forward(rand(2, 1, side, side));
        var n = PatchDiscriminator.OutputSide(side, layers);
        Assert.Equal(new long[] { 2, 1, n, n }, logits.shape);
        Assert.Equal(ScalarType.Float32, logits.dtype);
        var min = PatchDiscriminator.MinimumSide(layers);
        Assert.True(PatchDiscriminator.OutputSide(min, layers) >= 1 && PatchDiscriminator.OutputSide(min - 1, layers) < 1);
    }

    static ResNetVae Vae(VaeOptions o, int seed = 3)
    {
        manual_seed(seed);
        return new ResNetVae(new ResNetVaeOptions(1, 64, o.Width, o.Latent), o);
    }

    static readonly VaeOptions Small = new() { Width = 4, Latent = 8 };

    [Fact]
    public void Default_settings_are_the_thesis_loss_and_train_no_discriminator()
    {
        using var scope = NewDisposeScope();
        using var model = Vae(Small);
        Assert.Null(model.Auxiliary);
        var x = TestImages.AmfChunks[..4];
        using var g1 = new Generator(5);
        using var g2 = new Generator(5);
        var terms = model.Loss(x, new LossContext(0, g1));
        var thesis = VaeMath.Terms(x, VaeMath.Forward(model, x, g2), 1.0);
        Assert.Equal(thesis.Objective.item<float>(), terms.Objective.item<float>());
        Assert.Equal(["loss", "reconstruction", "kl", "mse_per_pixel", "psnr"], terms.Reported.Keys);
        Assert.Null(terms.Auxiliary);
        Assert.Equal(VaeOptions.TermsFor(Small).Select(t => t.Name), terms.Reported.Keys);
    }

    [Fact]
    public void L1_reconstruction_is_the_summed_absolute_error_and_MSE_is_still_reported()
    {
        using var scope = NewDisposeScope();
        using var model = Vae(Small with { Reconstruction = ReconstructionLoss.L1 });
        model.eval(); // as validation scores: batch norm with running statistics, like the reconstruction below
        var x = TestImages.AmfChunks[..4];
        var terms = model.Loss(x, new LossContext(0, new Generator(5), Validation: true));
        var recon = VaeMath.Reconstruct(model, x);
        var l1 = (x - recon).abs().flatten(1).sum(1).mean().item<float>();
        var mse = (x - recon).square().mean().item<float>();
        Assert.Equal(l1, terms.Reported["reconstruction"].item<float>(), l1 * 1e-5);
        Assert.Equal(mse, terms.Reported["mse_per_pixel"].item<float>(), mse * 1e-4);
        Assert.StartsWith("Summed absolute error", VaeOptions.TermsFor(model.LossSettings)[1].Title);
    }

    [Fact]
    public void Perceptual_term_adds_weight_times_pixels_times_the_distance()
    {
        using var scope = NewDisposeScope();
        var o = Small with { PerceptualWeight = 0.25, PerceptualStages = [1, 2] };
        using var model = Vae(o);
        model.eval();
        var x = TestImages.AmfChunks[..4];
        var terms = model.Loss(x, new LossContext(0, new Generator(5), Validation: true));
        var recon = VaeMath.Reconstruct(model, x);
        var distance = Hypha.Models.Perceptual.ResNet18Perceptual.Load().Distance(recon, x, [1, 2]).mean().item<float>();
        Assert.Equal(distance, terms.Reported["perceptual"].item<float>(), distance * 1e-4);
        var expected = terms.Reported["reconstruction"].item<float>() + 0.25 * 64 * 64 * distance + terms.Reported["kl"].item<float>();
        Assert.Equal(expected, terms.Reported["loss"].item<float>(), expected * 1e-5);
        Assert.Equal(terms.Reported["loss"].item<float>(), terms.Objective.item<float>());
    }

    [Fact]
    public void Adversarial_term_starts_at_disc_start_and_hands_the_discriminator_its_own_step()
    {
        using var scope = NewDisposeScope();
        var o = Small with { Adversarial = AdversarialLoss.Hinge, DiscWidth = 4, DiscLayers = 2, DiscStart = 100 };
        using var model = Vae(o);
        var d = Assert.IsType<PatchDiscriminator>(model.Auxiliary);
        // The discriminator is not part of the VAE's state dict (sampling never needs it), and the VAE's own
        // initialization is that of a run without it.
        Assert.DoesNotContain(model.state_dict().Keys, k => k.Contains("net.", StringComparison.Ordinal));
        using var plain = Vae(Small);
        foreach (var (name, p) in plain.named_parameters())
            Assert.True((p - model.named_parameters().First(q => q.name == name).parameter).abs().max().item<float>() == 0, name);

        var x = TestImages.AmfChunks[..4];
        var before = model.Loss(x, new LossContext(99));
        Assert.Null(before.Auxiliary);
        Assert.False(before.Reported.ContainsKey("adversarial"));

        var after = model.Loss(x, new LossContext(100));
        Assert.NotNull(after.Auxiliary);
        var w = after.Reported["adv_weight"].item<float>();
        var g = after.Reported["adversarial"].item<float>();
        Assert.True(w > 0, $"adaptive weight {w}");
        Assert.Equal(after.Reported["loss"].item<float>() + w * g, after.Objective.item<float>(), Math.Abs(after.Objective.item<float>()) * 1e-5);
        // The VAE's backward reaches its own weights, not the discriminator's.
        after.Objective.backward();
        Assert.All(d.parameters(), p => Assert.True(p.grad is null || p.grad.IsInvalid || p.grad.abs().sum().item<float>() == 0));
        Assert.True(model.named_parameters().First(p => p.name == "decoder.head.weight").parameter.grad!.abs().sum().item<float>() > 0);
        // The discriminator's step: its loss on real chunks and detached reconstructions reaches only its weights.
        var second = after.Auxiliary!();
        Assert.Equal(["discriminator", "d_real", "d_fake"], second.Reported.Keys);
        second.Objective.backward();
        Assert.All(d.parameters(), p => Assert.True(p.grad!.abs().sum().item<float>() > 0));
        // Validation leaves the discriminator out.
        using (no_grad())
        {
            var val = model.Loss(x, new LossContext(1000, new Generator(1), Validation: true));
            Assert.Null(val.Auxiliary);
            Assert.False(val.Reported.ContainsKey("adversarial"));
        }
    }

    [Fact]
    public void Fixed_weight_is_the_factor_per_pixel()
    {
        using var scope = NewDisposeScope();
        var o = Small with { Adversarial = AdversarialLoss.LeastSquares, DiscWidth = 4, DiscLayers = 2, AdvWeighting = AdversarialWeighting.Fixed, AdvWeight = 0.01 };
        using var model = Vae(o);
        var terms = model.Loss(TestImages.AmfChunks[..4], new LossContext(0));
        Assert.Equal(0.01 * 64 * 64, terms.Reported["adv_weight"].item<float>(), 1e-3);
    }

    [Fact]
    public void Progressive_VAE_takes_the_losses_at_every_stage()
    {
        using var scope = NewDisposeScope();
        var o = new ProVaeOptions
        {
            Width = 4, Latent = 8, Progressive = new() { EpochsPerStage = 1, PixelNorm = false, EqualizedLr = false },
            Reconstruction = ReconstructionLoss.L1, Adversarial = AdversarialLoss.Hinge, DiscWidth = 4, DiscLayers = 2,
        };
        manual_seed(1);
        using var model = new ProgressiveVae(new ProgressiveVaeOptions(1, 28, 4, 8, o.Progressive), o);
        foreach (var (stage, alpha) in new[] { (0, 1.0), (1, 0.0), (1, 0.5), (2, 1.0) })
        {
            model.SetPosition(stage, alpha);
            var x = ModelInput.Fit(model, nn.functional.interpolate(TestImages.AmfChunks[..4], [28, 28], mode: InterpolationMode.Area));
            var terms = model.Loss(x, new LossContext(0));
            Assert.True(terms.Objective.isfinite().item<bool>(), $"stage {stage} alpha {alpha}");
            Assert.True(terms.Reported["adv_weight"].item<float>() > 0, $"stage {stage} alpha {alpha}: no gradient reached the last layer");
            terms.Objective.backward();
            var second = terms.Auxiliary!();
            Assert.True(second.Objective.isfinite().item<bool>());
        }
    }

    [Fact]
    public void Options_refuse_bad_values_and_chunks_too_small_for_the_discriminator()
    {
        Assert.Contains("perceptual stages", Assert.Throws<HyphaException>(() => (Small with { PerceptualStages = [5] }).Validate()).Message);
        Assert.Contains("perceptual stages", Assert.Throws<HyphaException>(() => (Small with { PerceptualStages = [1, 1] }).Validate()).Message);
        Assert.Contains("adversarial weight", Assert.Throws<HyphaException>(() => (Small with { AdvWeight = -1 }).Validate()).Message);
        Assert.Contains("discriminator layers", Assert.Throws<HyphaException>(() => (Small with { DiscLayers = 0 }).Validate()).Message);
        var small = Assert.Throws<HyphaException>(() => new ResNetVaeDescriptor().ValidateShape(Small with { Adversarial = AdversarialLoss.Hinge, DiscLayers = 5 }, 1, 64));
        Assert.Contains("too small for a discriminator of 5 stride-2 layers", small.Message);
        Assert.Contains("at least 96", small.Message);
    }
}
