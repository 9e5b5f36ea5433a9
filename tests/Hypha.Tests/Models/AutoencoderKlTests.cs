using Hypha.Models;
using Hypha.Models.AutoencoderKl;
using Hypha.Sampling.Priors;
using Hypha.Tests.Faults;
using static TorchSharp.torch;

namespace Hypha.Tests.Models;

/// <summary>The <c>autoencoder_kl</c> family (a VAE with a latent image) and the U-Net denoiser of the latent-diffusion
/// prior that its latents call for.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class AutoencoderKlTests : IDisposable
{
    readonly Faults.TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void The_latent_is_an_image_handed_around_flat_and_decoding_gives_chunks()
    {
        var o = new AutoencoderKlOptions { Width = 8, Latent = 3 };
        using var model = (AutoencoderKl)o.Descriptor.Create(o, 1, 32);
        Assert.Equal(new[] { 3, 8, 8 }, ((IEncoderModel)model).LatentShape);
        Assert.Equal(3 * 8 * 8, model.LatentSize);
        using var x = rand([2, 1, 32, 32]);
        var (mu, logVar) = model.Encode(x);
        using (mu)
        using (logVar)
        {
            Assert.Equal(new long[] { 2, 192 }, mu.shape);
            Assert.Equal(new long[] { 2, 192 }, logVar.shape);
            using var image = model.Decode(mu);
            Assert.Equal(new long[] { 2, 1, 32, 32 }, image.shape);
            Assert.True(image.min().item<float>() >= 0 && image.max().item<float>() <= 1);
        }
    }

    [Fact]
    public void Chunk_sizes_the_levels_cannot_halve_are_refused_with_the_size_it_needs()
    {
        var o = new AutoencoderKlOptions { ChannelMult = [1, 2, 4, 4] };
        var e = Assert.Throws<HyphaException>(() => o.Descriptor.ValidateShape(o, 1, 36));
        Assert.Contains("chunk size 36 cannot be taken by an autoencoder of 4 levels: it needs a multiple of 8", e.Message);
        Assert.Contains("channel multipliers", Assert.Throws<HyphaException>(() => (o with { ChannelMult = [] }).Validate()).Message);
    }

    [Fact]
    public void A_tiny_run_trains_fits_a_unet_prior_and_samples_through_the_cli()
    {
        var run = _tmp.Path("run");
        // --latent is the vector VAEs' size, refused by name here: a cpu preset switched to this family must not carry
        // its 64-number latent over as 64 channels.
        var image = _tmp.Path("images", "cell.png"); // a copy: moved away below, to show what reads images and what does not
        Directory.CreateDirectory(Path.GetDirectoryName(image)!);
        File.Copy(Tiny.Image, image);
        var args = Tiny.TrainOn([image], run, "--model", "autoencoder_kl", "--latent-channels", "2", "--channel-mult", "1,2", "--beta", "0.001", "--epoch-size", "96").ToList();
        var refused = Faults.Cli.Run([.. args]);
        Assert.Contains("--latent does not apply to --model autoencoder_kl (it is a setting of resnet_vae, provae)", refused.Err);
        Assert.False(Directory.Exists(run));
        args.RemoveRange(args.IndexOf("--latent"), 2);
        var train = Faults.Cli.Run([.. args]);
        Assert.True(train.Code == 0, train.ToString());

        // Its samples need a fitted prior: training previews none (N(0, I) decodes would mislead), sampling with no
        // --sampler and none fitted says how to fit one and writes nothing, the report says the same in place of samples.
        Assert.False(File.Exists(Path.Combine(run, "grids", "samples.png")));
        Assert.True(File.Exists(Path.Combine(run, "grids", "reconstructions.png")));
        var unfitted = Faults.Cli.Run("sample", "--run", run, "--count", "3", "--out", _tmp.Path("u"));
        Assert.NotEqual(0, unfitted.Code);
        Assert.Contains($"none is fitted yet: hypha fit-prior --run {run} --sampler latent-diffusion", unfitted.Err);
        Assert.False(Directory.Exists(_tmp.Path("u")));
        // evaluate refuses from the run's config, before it reads an image (it used to open them all first): with the
        // training image gone, the refusal is still the one about the prior.
        File.Move(image, image + ".away");
        var unscored = Faults.Cli.Run("evaluate", "--run", run);
        File.Move(image + ".away", image);
        Assert.NotEqual(0, unscored.Code);
        Assert.Contains($"none is fitted yet: hypha fit-prior --run {run} --sampler latent-diffusion", unscored.Err);
        Assert.False(File.Exists(Path.Combine(run, "metrics.jsonl")));
        var report = Faults.Cli.Run("report", "--run", run);
        Assert.True(report.Code == 0, report.ToString());
        Assert.Contains("(autoencoder_kl) draws its samples from a prior fitted to its latents, and none is fitted yet", File.ReadAllText(Path.Combine(run, "report.html")));

        var fit = Faults.Cli.Run("fit-prior", "--run", run, "--sampler", "latent-diffusion", "--steps", "30", "--width", "8", "--blocks", "1", "--sample-steps", "5");
        Assert.True(fit.Code == 0, fit.ToString());
        Assert.Contains("U-Net denoiser width 8, 1 blocks per level, on 2x16x16 latents", fit.Out);
        using (var prior = FittedPriors.Load(Runs.RunFolder.Open(run), LatentSamplers.LatentDiffusion, 2 * 16 * 16))
        {
            Assert.IsType<ConvLatentDenoiser>(((LatentDiffusionPrior)prior).Network);
            using var z = prior.Sample(1, 0, 3);
            Assert.Equal(new long[] { 3, 512 }, z.shape);
        }
        // --augment dihedral: every chunk encoded under its 8 symmetries, recorded in the file.
        var mlp = Faults.Cli.Run("fit-prior", "--run", run, "--sampler", "latent-diffusion", "--denoiser", "mlp", "--steps", "5", "--overwrite", "--augment", "dihedral");
        Assert.True(mlp.Code == 0, mlp.ToString());
        Assert.Contains("MLP denoiser width 256, 3 blocks", mlp.Out);
        Assert.Contains("each under 8 symmetries (dihedral)", mlp.Out);
        var stored = PriorFiles.Read<LatentDiffusionFile>(FittedPriors.PathOf(Runs.RunFolder.Open(run), LatentSamplers.LatentDiffusion), "latent-diffusion", "");
        Assert.Equal("dihedral", stored.Fit.Augment);
        Assert.Equal(8 * stored.Fit.TrainChunks, stored.Fit.Vectors);
        // No --sampler: the fitted prior, not N(0, I).
        var sample = Faults.Cli.Run("sample", "--run", run, "--count", "3", "--out", _tmp.Path("s"));
        Assert.True(sample.Code == 0, sample.ToString());
        Assert.Equal(3, Directory.GetFiles(_tmp.Path("s"), "sample_*.png").Length);
        Assert.Contains(",latent-diffusion", File.ReadAllText(Path.Combine(_tmp.Path("s"), "manifest.csv")));

        // Exported, it says plainly that the PyTorch builder has no twin of this family instead of naming a command that fails.
        var export = Faults.Cli.Run("export", "--run", run, "--out", _tmp.Path("ae.safetensors"));
        Assert.True(export.Code == 0, export.ToString());
        Assert.Contains("hypha_weights.py builds resnet_vae and diffusion only; load this autoencoder_kl state dict", export.Out);
        Assert.DoesNotContain("hypha_weights.py sample", export.Out);
    }

    /// <summary>Latent images with a layout: a bright or dark blob (40/60) at a random place over a per-channel offset,
    /// with noise. The U-Net prior's samples must have the training latents' per-position mean and spread.</summary>
    [Fact]
    public void The_unet_prior_samples_match_the_moments_of_latent_images()
    {
        using var gen = new Generator(5);
        const int n = 3000, c = 2, s = 8;
        using var ys = arange(s, ScalarType.Float32).reshape(1, 1, s, 1);
        using var xs = arange(s, ScalarType.Float32).reshape(1, 1, 1, s);
        using var cy = rand([n, 1, 1, 1], generator: gen) * (s - 1);
        using var cx = rand([n, 1, 1, 1], generator: gen) * (s - 1);
        using var sign = (rand([n, 1, 1, 1], generator: gen) < 0.4).to_type(ScalarType.Float32) * 2 - 1;
        using var blob = (-((ys - cy).square() + (xs - cx).square()) / 4).exp() * sign;
        using var offsets = tensor(new float[] { 0.5f, -1 }).reshape(1, c, 1, 1);
        using var images = blob * tensor(new float[] { 2, 1 }).reshape(1, c, 1, 1) + offsets + 0.1f * randn([n, c, s, s], generator: gen);
        using var latents = images.reshape(n, -1);

        var options = new LatentDiffusionOptions { Shape = [c, s, s], Width = 16, Blocks = 1, Steps = 300, Batch = 128, Lr = 2e-3, Seed = 1, SampleSteps = 20 };
        var (prior, loss) = LatentDiffusionPrior.Train(latents, options);
        using var _ = prior;
        Assert.IsType<ConvLatentDenoiser>(prior.Network);
        Assert.True(loss[^1] < loss[0] - 0.05, $"the loss did not fall: {loss[0]:G3} to {loss[^1]:G3}");
        using var samples = prior.Sample(seed: 2, start: 0, count: 1000);
        Assert.Equal(new long[] { 1000, c * s * s }, samples.shape);
        using var meanError = (samples.mean([0]) - latents.mean([0])).abs().max();
        using var spreadRatio = samples.std([0]).mean() / latents.std([0]).mean();
        Assert.True(meanError.item<float>() < 0.25f, $"per-position means differ by up to {meanError.item<float>():F3}");
        Assert.InRange(spreadRatio.item<float>(), 0.7f, 1.3f);
    }
}
