using System.Text.Json;
using Hypha.Evaluation;
using Hypha.Models;
using Hypha.Sampling.Priors;
using Hypha.Tests.Faults;
using static TorchSharp.torch;

namespace Hypha.Tests.Sampling;

/// <summary>The fitted priors through the real command line on a tiny trained VAE: refused before they are fitted,
/// fitted with fit-prior and train --fit-prior, then used by sample, evaluate and report; refused once the checkpoint
/// has moved on.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class FitPriorCliTests : IDisposable
{
    readonly Faults.TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    static float[][] Samples(string dir) =>
        Directory.GetFiles(dir, "sample_*.png").Order(StringComparer.Ordinal).Select(f => Hypha.Imaging.ImageReader.Read(f)[0].Pixels).ToArray();

    /// <summary>Largest difference between two sample sets, in 8-bit gray levels (the reader's native scale).</summary>
    static float Levels(float[][] a, float[][] b) =>
        a.Zip(b).Max(p => p.First.Zip(p.Second).Max(q => MathF.Abs(q.First - q.Second)));

    [Fact]
    public void Fit_prior_then_sample_evaluate_and_report_with_each_sampler()
    {
        var run = Tiny.Train(_tmp.Path("run"));

        // Not fitted yet: one line naming the file and the command to run, before anything is written.
        var early = Faults.Cli.Run("sample", "--run", run, "--count", "4", "--out", _tmp.Path("early"), "--sampler", "gmm");
        Assert.Equal((int)ExitCode.InvalidConfig, early.Code);
        Assert.Contains("priors/gmm.json: the gmm prior is not fitted yet; fit it with hypha fit-prior --run", early.Err);
        Assert.Single(early.Err.Trim().Split('\n'));
        Assert.False(Directory.Exists(_tmp.Path("early")));
        var earlyEval = Faults.Cli.Run("evaluate", "--run", run, "--sampler", "latent-diffusion", "--metrics", "swd");
        Assert.Equal((int)ExitCode.InvalidConfig, earlyEval.Code);
        Assert.Contains("latent-diffusion prior is not fitted yet", earlyEval.Err);
        Assert.False(File.Exists(Path.Combine(run, "metrics.jsonl")));

        // Fit both; options of the other prior are refused by name; a second fit needs --overwrite.
        var wrong = Faults.Cli.Run("fit-prior", "--run", run, "--sampler", "gmm", "--steps", "10");
        Assert.Equal((int)ExitCode.InvalidConfig, wrong.Code);
        Assert.Contains("--steps does not apply to --sampler gmm", wrong.Err);
        var gmm = Faults.Cli.Run("fit-prior", "--run", run, "--sampler", "gmm", "--components", "3", "--covariance", "diag");
        Assert.True(gmm.Code == 0, gmm.ToString());
        Assert.Contains("EM converged", gmm.Out);
        var again = Faults.Cli.Run("fit-prior", "--run", run, "--sampler", "gmm");
        Assert.Equal((int)ExitCode.OutputError, again.Code);
        Assert.Contains("pass --overwrite", again.Err);
        var ld = Faults.Cli.Run("fit-prior", "--run", run, "--sampler", "latent-diffusion", "--steps", "60", "--width", "32", "--blocks", "1", "--sample-steps", "8");
        Assert.True(ld.Code == 0, ld.ToString());
        Assert.Contains("step 60/60", ld.Out);
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "priors", "gmm.json"))))
        {
            Assert.Equal("gmm", doc.RootElement.GetProperty("kind").GetString());
            Assert.Equal(3, doc.RootElement.GetProperty("weights").GetArrayLength());
            Assert.Equal(8, doc.RootElement.GetProperty("means")[0].GetArrayLength()); // Tiny's latent size
            Assert.True(doc.RootElement.GetProperty("fit").GetProperty("vectors").GetInt32() > 0);
        }

        // Sample with each: seeded (another batch size gives the same images but for a gray level of rounding where the
        // decoder's arithmetic depends on the batch size), and the fitted priors draw other latents than N(0, I).
        var made = new Dictionary<string, float[][]>();
        foreach (var sampler in LatentSamplers.Names)
        {
            var a = _tmp.Path("s-" + sampler);
            var r = Faults.Cli.Run("sample", "--run", run, "--count", "5", "--out", a, "--seed", "3", "--sampler", sampler);
            Assert.True(r.Code == 0, r.ToString());
            var b = _tmp.Path("b-" + sampler);
            Assert.Equal(0, Faults.Cli.Run("sample", "--run", run, "--count", "5", "--out", b, "--seed", "3", "--sampler", sampler, "--batch", "2").Code);
            made[sampler] = Samples(a);
            Assert.Equal(5, made[sampler].Length);
            Assert.True(Levels(made[sampler], Samples(b)) <= 1, $"--sampler {sampler}: --batch 2 made other images");
        }
        // (A model trained for 64 images decodes nearly one image whatever the latent, so the images themselves cannot
        // tell the samplers apart: the fitted priors' own latents, decoded, must give sample's images.)
        var (_, model, _) = Hypha.Training.TrainingSession.LoadModel(Runs.RunFolder.Open(run), "cpu");
        using (model)
        using (var standard = new StandardNormalLatents(8).Sample(3, 0, 5))
            foreach (var fitted in LatentSamplers.Fitted)
            {
                using var prior = FittedPriors.Load(Runs.RunFolder.Open(run), fitted, 8);
                using var z = prior.Sample(3, 0, 5);
                Assert.True((z - standard).abs().max().item<float>() > 0.1f, $"the {fitted} prior drew N(0, I)'s latents");
                using var images = VaeMath.DecodeBatches((IEncoderModel)model, z, CPU);
                var decoded = Enumerable.Range(0, 5).Select(i => (images[i] * 255).round().flatten().data<float>().ToArray()).ToArray();
                Assert.True(Levels(made[fitted], decoded) <= 1, $"sample --sampler {fitted} did not decode the {fitted} prior's latents");
            }
        var defaultSampler = _tmp.Path("default");
        Assert.Equal(0, Faults.Cli.Run("sample", "--run", run, "--count", "5", "--out", defaultSampler, "--seed", "3").Code);
        Assert.Equal(0, Levels(made["prior"], Samples(defaultSampler))); // --sampler prior is what sample always did

        // DDIM options go to the latent-diffusion prior only.
        Assert.Equal(0, Faults.Cli.Run("sample", "--run", run, "--count", "2", "--out", _tmp.Path("steps"), "--sampler", "latent-diffusion", "--steps", "3", "--eta", "0.5").Code);
        var steps = Faults.Cli.Run("sample", "--run", run, "--count", "2", "--out", _tmp.Path("bad-steps"), "--sampler", "gmm", "--steps", "3");
        Assert.Equal((int)ExitCode.InvalidConfig, steps.Code);
        Assert.Contains("--steps applies to --sampler latent-diffusion only", steps.Err);
        var unknown = Faults.Cli.Run("sample", "--run", run, "--count", "2", "--out", _tmp.Path("bad-name"), "--sampler", "ddim");
        Assert.Equal((int)ExitCode.InvalidConfig, unknown.Code);
        Assert.Contains("unknown sampler 'ddim' for the run's model (resnet_vae): prior, gmm or latent-diffusion", unknown.Err);

        // Evaluate records the sampler; the report shows that sampler's samples and picks its evaluation.
        var eval = Faults.Cli.Run("evaluate", "--run", run, "--sampler", "gmm", "--metrics", "swd,memorization", "--test-limit", "16", "--train-limit", "64");
        Assert.True(eval.Code == 0, eval.ToString());
        var plain = Faults.Cli.Run("evaluate", "--run", run, "--metrics", "swd", "--test-limit", "16", "--train-limit", "64");
        Assert.True(plain.Code == 0, plain.ToString());
        var records = MetricsJsonl.ReadAll(Path.Combine(run, "metrics.jsonl"));
        Assert.Equal("gmm", records[0].Context[RunEvaluation.LatentSamplerKey]);
        Assert.StartsWith("gmm: 3 components, diagonal covariance", records[0].Context["sampler"]);
        Assert.Equal("priors/gmm.json", records[0].Context["latent_prior_file"]);
        Assert.Equal("prior", records[1].Context[RunEvaluation.LatentSamplerKey]);
        Assert.StartsWith("prior: N(0, I)", records[1].Context["sampler"]);
        var report = Faults.Cli.Run("report", "--run", run, "--sampler", "gmm");
        Assert.True(report.Code == 0, report.ToString());
        var html = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Contains("as hypha sample makes them (sampler gmm: 3 components", html);
        Assert.Contains("Sampler: gmm: 3 components", html); // the gmm evaluation, not the later N(0, I) one
        var ldReport = Faults.Cli.Run("report", "--run", run, "--sampler", "latent-diffusion", "--out", _tmp.Path("ld.html"));
        Assert.True(ldReport.Code == 0, ldReport.ToString());
        Assert.Contains("not latent-diffusion as the samples on this page", File.ReadAllText(_tmp.Path("ld.html")));

        // Training on moves the checkpoint: the priors are refused until refitted; train --fit-prior refits at its end.
        Assert.Equal(0, Faults.Cli.Run("train", "--run", run, "--resume", "--epochs", "2").Code);
        var stale = Faults.Cli.Run("sample", "--run", run, "--count", "2", "--out", _tmp.Path("stale"), "--sampler", "gmm");
        Assert.Equal((int)ExitCode.BadCheckpoint, stale.Code);
        Assert.Contains("was fitted to the checkpoint of epoch 1", stale.Err);
        Assert.Contains("--overwrite", stale.Err);
        var refit = Faults.Cli.Run("train", "--run", run, "--resume", "--epochs", "3", "--fit-prior", "gmm");
        Assert.True(refit.Code == 0, refit.ToString());
        Assert.Contains("fitting the gmm prior", refit.Out);
        Assert.Equal(0, Faults.Cli.Run("sample", "--run", run, "--count", "2", "--out", _tmp.Path("refitted"), "--sampler", "gmm").Code);
    }

    [Fact]
    public void The_vae_samplers_are_refused_for_a_model_without_latents()
    {
        var run = Tiny.Train(_tmp.Path("run"));
        using var diffusion = ModelRegistry.Get("diffusion").Create(new Hypha.Models.Diffusion.DiffusionOptions { Width = 8, ChannelMult = [1], ResBlocks = 1, AttentionResolutions = [] }, 1, 32);
        var folder = Runs.RunFolder.Open(run);
        var e = Assert.Throws<HyphaException>(() => FittedPriors.Resolve(folder, diffusion, new SamplerSettings { Sampler = "gmm" }));
        Assert.Equal(ExitCode.InvalidConfig, e.Code);
        Assert.Contains("--sampler gmm draws the latents of a VAE; the run's model (diffusion) has none", e.Message);
        Assert.Same(FittedPriors.Resolve(folder, diffusion, new SamplerSettings { Sampler = "ddpm" }).Latents, null);

        // --fit-prior on a diffusion run is refused before any work.
        var train = Faults.Cli.Run("train", "--images", Tiny.Image, "--preset", "diffusion-cpu", "--chunk", "32", "--threads", "1",
            "--run", _tmp.Path("diffusion"), "--fit-prior", "gmm");
        Assert.Equal((int)ExitCode.InvalidConfig, train.Code);
        Assert.Contains("cannot be fitted a prior over its latents", train.Err);
        Assert.False(Directory.Exists(_tmp.Path("diffusion")));

        // A damaged prior file is refused naming it, with the command that refits it.
        Assert.Equal(0, Faults.Cli.Run("fit-prior", "--run", run, "--sampler", "gmm", "--components", "2").Code);
        File.WriteAllText(Path.Combine(run, "priors", "gmm.json"), "{\"format\": 1, \"kind\": \"gmm\", \"weights\": [1, 2");
        var damaged = Faults.Cli.Run("sample", "--run", run, "--count", "2", "--out", _tmp.Path("d"), "--sampler", "gmm");
        Assert.Equal((int)ExitCode.BadCheckpoint, damaged.Code);
        Assert.Contains("gmm.json: cannot be read", damaged.Err);
        Assert.Contains("--sampler gmm --overwrite", damaged.Err);
    }
}
