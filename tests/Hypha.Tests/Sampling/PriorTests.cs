using Hypha.Models.Diffusion;
using Hypha.Sampling.Priors;
using static TorchSharp.torch;

namespace Hypha.Tests.Sampling;

/// <summary>The fitted priors' mathematics on generated data whose distribution is known: EM for the Gaussian mixture,
/// the latent-diffusion prior's samples against the moments of its training distribution. Each test runs on one
/// libtorch thread (restored after): on a loaded machine two OpenMP threads spin at every barrier of these small ops,
/// 20 times slower.</summary>
public sealed class PriorTests : IDisposable
{
    readonly Xunit.Abstractions.ITestOutputHelper log;
    readonly int threads = get_num_threads();

    public PriorTests(Xunit.Abstractions.ITestOutputHelper log)
    {
        this.log = log;
        set_num_threads(1);
    }

    public void Dispose() => set_num_threads(threads);

    /// <summary>A known 3-component mixture in 4 dimensions: weights, means, full covariances.</summary>
    static readonly double[] TrueWeights = [0.5, 0.3, 0.2];

    static readonly double[][] TrueMeans = [[0, 0, 0, 0], [6, -4, 2, 0], [-5, 5, -3, 4]];

    /// <summary>Draws n rows of the known mixture; the covariance of component k is A_k A_k^T.</summary>
    static (Tensor X, Tensor[] Covariances) KnownMixture(int n, int seed)
    {
        using var gen = new Generator((ulong)seed);
        var a = new[]
        {
            tensor(new double[,] { { 1.0, 0, 0, 0 }, { 0.8, 0.6, 0, 0 }, { 0, 0, 0.5, 0 }, { 0, 0.3, 0, 1.2 } }),
            tensor(new double[,] { { 0.4, 0, 0, 0 }, { 0, 1.5, 0, 0 }, { 0.2, 0, 0.7, 0 }, { 0, 0, 0, 0.3 } }),
            tensor(new double[,] { { 2.0, 0, 0, 0 }, { -1.0, 0.5, 0, 0 }, { 0, 0, 1.0, 0 }, { 0, 0, 0.6, 0.8 } }),
        };
        using var u = rand([n], ScalarType.Float64, generator: gen);
        using var eps = randn([n, 4], ScalarType.Float64, generator: gen);
        var uu = u.data<double>().ToArray();
        var rows = new Tensor[n];
        for (var i = 0; i < n; i++)
        {
            var k = uu[i] < TrueWeights[0] ? 0 : uu[i] < TrueWeights[0] + TrueWeights[1] ? 1 : 2;
            rows[i] = tensor(TrueMeans[k]) + matmul(a[k], eps[i]);
        }
        var x = stack(rows);
        foreach (var r in rows) r.Dispose();
        return (x, a.Select(m => matmul(m, m.t())).ToArray());
    }

    [Theory]
    [InlineData(CovarianceKind.Full)]
    [InlineData(CovarianceKind.Diag)]
    public void Em_raises_the_log_likelihood_at_every_iteration(CovarianceKind kind)
    {
        var (x, covs) = KnownMixture(1500, seed: 1);
        using var _ = x;
        // Many components and no k-means refinement, so EM has real work to do for many iterations.
        var options = new GmmOptions { Components = 6, Covariance = kind, KMeansIterations = 0, Tolerance = 1e-8, MaxIterations = 60, Seed = 3 };
        var reported = new List<double>();
        var (mixture, trace) = GaussianMixture.Fit(x, options, (_, ll) => reported.Add(ll));
        using var __ = mixture;
        Assert.True(trace.LogLikelihood.Count >= 10, $"only {trace.LogLikelihood.Count} iterations");
        Assert.Equal(reported, trace.LogLikelihood.Take(reported.Count));
        for (var i = 1; i < trace.LogLikelihood.Count; i++)
            Assert.True(trace.LogLikelihood[i] >= trace.LogLikelihood[i - 1] - 1e-9,
                $"iteration {i}: {trace.LogLikelihood[i]:R} < {trace.LogLikelihood[i - 1]:R}");
        Assert.True(trace.LogLikelihood[^1] > trace.LogLikelihood[0] + 0.05, "EM did not improve on its initialization");
        // The trace's last entry is the returned mixture's likelihood.
        Assert.Equal(trace.LogLikelihood[^1], mixture.MeanLogLikelihood(x), 9);
        foreach (var c in covs) c.Dispose();
    }

    [Fact]
    public void Em_recovers_the_components_of_a_known_mixture()
    {
        var (x, covs) = KnownMixture(4000, seed: 2);
        using var _ = x;
        var (mixture, trace) = GaussianMixture.Fit(x, new GmmOptions { Components = 3, Seed = 5 });
        using var __ = mixture;
        Assert.True(trace.Converged, $"EM did not converge in {trace.Iterations} iterations");
        var means = mixture.Means;
        for (var k = 0; k < 3; k++)
        {
            // The fitted component whose mean is nearest the true one.
            using var truth = tensor(TrueMeans[k]);
            using var d = (means - truth).square().sum(1);
            var j = d.argmin().item<long>();
            Assert.True(d[j].item<double>() < 0.15 * 0.15, $"component {k}: mean off by {Math.Sqrt(d[j].item<double>()):F3}");
            Assert.Equal(TrueWeights[k], mixture.Weights[j].item<double>(), 0.025);
            using var diff = mixture.Covariances[j] - covs[k];
            var rel = linalg.norm(diff).item<double>() / linalg.norm(covs[k]).item<double>();
            Assert.True(rel < 0.12, $"component {k}: covariance off by {rel:P1} (Frobenius)");
        }
        // Its likelihood beats a single Gaussian's by far (the data is clearly multimodal).
        var (one, _) = GaussianMixture.Fit(x, new GmmOptions { Components = 1 });
        using (one) Assert.True(mixture.MeanLogLikelihood(x) > one.MeanLogLikelihood(x) + 1);
        foreach (var c in covs) c.Dispose();
    }

    [Fact]
    public void Mixture_samples_are_seeded_per_index_and_follow_the_mixture()
    {
        var (x, covs) = KnownMixture(3000, seed: 4);
        using var _ = x;
        var (mixture, _) = GaussianMixture.Fit(x, new GmmOptions { Components = 3, Seed = 1 });
        using var __ = mixture;
        using var all = mixture.Sample(seed: 9, start: 0, count: 20);
        using var tail = mixture.Sample(seed: 9, start: 5, count: 15);
        Assert.Equal(ScalarType.Float32, all.dtype);
        Assert.True(all.narrow(0, 5, 15).eq(tail).all().item<bool>(), "sample i depends on more than (seed, i)");
        using var other = mixture.Sample(seed: 10, start: 0, count: 20);
        Assert.False(all.eq(other).all().item<bool>());

        // Many samples have the data's mean and covariance.
        using var many = mixture.Sample(seed: 1, start: 0, count: 20000).to_type(ScalarType.Float64);
        AssertMoments(x, many, meanTolerance: 0.1, covarianceTolerance: 0.06);
        foreach (var c in covs) c.Dispose();
    }

    [Fact]
    public void Bad_mixture_settings_are_refused_by_name()
    {
        Assert.Contains("--components", Assert.Throws<HyphaException>(() => new GmmOptions { Components = 0 }.Validated()).Message);
        Assert.Contains("--reg-covar", Assert.Throws<HyphaException>(() => new GmmOptions { RegCovar = -1 }.Validated()).Message);
        using var few = randn([3, 2], ScalarType.Float64);
        var e = Assert.Throws<HyphaException>(() => GaussianMixture.Fit(few, new GmmOptions { Components = 4 }));
        Assert.Contains("needs at least 4 latent vectors", e.Message);
    }

    /// <summary>
    /// A non-Gaussian latent distribution with very unequal scales per dimension (3 to 0.01, as a VAE's active and
    /// collapsed dimensions) and correlations: the prior's samples must have its mean and covariance.
    /// </summary>
    [Fact]
    public void Latent_diffusion_samples_match_the_moments_of_the_training_latents()
    {
        using var gen = new Generator(11);
        const int n = 4000;
        using var side = (rand([n, 1], generator: gen) < 0.35).to_type(ScalarType.Float32) * 2 - 1; // two modes, 35/65
        using var e = randn([n, 4], generator: gen);
        using var mix = tensor(new float[,] { { 1, 0, 0, 0 }, { 0.6f, 0.8f, 0, 0 }, { 0, 0, 1, 0 }, { 0, 0, 0.5f, 0.87f } });
        using var scales = tensor(new float[] { 3, 1, 0.1f, 0.01f });
        using var offsets = tensor(new float[] { 1, -2, 0.5f, 0 });
        using var latents = (matmul(e * 0.5f, mix.t()) + side * tensor(new float[] { 1.2f, -0.8f, 1, 0 })) * scales + offsets;

        var options = new LatentDiffusionOptions { Width = 64, Blocks = 2, Steps = 700, Batch = 256, Lr = 3e-3, Seed = 2, SampleSteps = 30 };
        var reports = new List<LatentDiffusionProgress>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (prior, loss) = LatentDiffusionPrior.Train(latents, options, progress: reports.Add);
        log.WriteLine($"trained in {clock.Elapsed.TotalSeconds:F1} s");
        clock.Restart();
        using var _ = prior;
        Assert.True(loss[^1] < loss[0] - 0.05, $"the loss did not fall: {loss[0]:G3} to {loss[^1]:G3}");
        Assert.Equal(700, reports[^1].Step);
        Assert.True(reports.Count >= 50, $"{reports.Count} progress reports");

        using var samples = prior.Sample(seed: 3, start: 0, count: 4000);
        Assert.Equal(new long[] { 4000, 4 }, samples.shape);
        log.WriteLine($"sampled in {clock.Elapsed.TotalSeconds:F1} s");
        AssertMoments(latents.to_type(ScalarType.Float64), samples.to_type(ScalarType.Float64), meanTolerance: 0.1, covarianceTolerance: 0.15);

        // Seeded per index, whatever the slice.
        using var slice = prior.Sample(seed: 3, start: 10, count: 5);
        Assert.True((samples.narrow(0, 10, 5) - slice).abs().max().item<float>() < 1e-5f);

        // The same seed trains the same network.
        var (again, _) = LatentDiffusionPrior.Train(latents, options with { Steps = 20 });
        var (twice, _) = LatentDiffusionPrior.Train(latents, options with { Steps = 20 });
        using (again)
        using (twice)
            foreach (var (name, t) in again.Network.state_dict())
                Assert.True(t.eq(twice.Network.state_dict()[name]).all().item<bool>(), $"{name} differs between two fits with one seed");
    }

    /// <summary>0 means the denoiser's default, chosen from the latent's shape; a number given stays.</summary>
    [Fact]
    public void Unset_denoiser_settings_resolve_to_the_defaults_of_the_denoiser_the_shape_picks()
    {
        var image = new LatentDiffusionOptions().Resolved([4, 16, 16]);
        Assert.Equal((LatentDenoiserKind.Unet, 32, 2, 4000, 128), (image.Denoiser, image.Width, image.Blocks, image.Steps, image.Batch));
        var vector = new LatentDiffusionOptions().Resolved([64]);
        Assert.Equal((LatentDenoiserKind.Mlp, 256, 3, 4000, 256), (vector.Denoiser, vector.Width, vector.Blocks, vector.Steps, vector.Batch));
        var given = new LatentDiffusionOptions { Steps = 2000, Width = 48 }.Resolved([4, 16, 16]);
        Assert.Equal((2000, 48, 2), (given.Steps, given.Width, given.Blocks));
        Assert.Equal(new[] { 4, 16, 16 }, image.Shape);
    }

    [Fact]
    public void Schedule_and_ddim_work_on_latent_vectors_without_the_image_clamp()
    {
        var schedule = new NoiseSchedule(100);
        using var x0 = tensor(new float[,] { { 5, -3 }, { 0.5f, 2 } });
        using var eps = tensor(new float[,] { { 0.1f, -0.2f }, { 1, 0 } });
        using var t = tensor(new long[] { 10, 90 });
        using var xt = schedule.AddNoise(x0, eps, t);
        Assert.Equal(new long[] { 2, 2 }, xt.shape);
        for (var i = 0; i < 2; i++)
        {
            var a = Math.Sqrt(schedule.AlphaBar[i == 0 ? 10 : 90]);
            var b = Math.Sqrt(1 - schedule.AlphaBar[i == 0 ? 10 : 90]);
            for (var j = 0; j < 2; j++)
                Assert.Equal(a * x0[i, j].item<float>() + b * eps[i, j].item<float>(), xt[i, j].item<float>(), 4);
        }
        // One DDIM step from an exact v prediction lands on x0 itself when it is the last step; unclamped, x0 = 5 survives.
        using var v = schedule.Target(x0, eps, t);
        var ddim = new DdimSampler(schedule, steps: 1, clip: null);
        using var t99 = tensor(new long[] { 99, 99 });
        using var x99 = schedule.AddNoise(x0, eps, t99);
        using var v99 = schedule.Target(x0, eps, t99);
        var (prev, estimate) = ddim.Step(v99, 0, x99, null);
        using (prev)
        using (estimate)
        {
            Assert.True((prev - x0).abs().max().item<float>() < 1e-3f);
            var clamped = new DdimSampler(schedule, steps: 1).Step(v99, 0, x99, null);
            using var cp = clamped.Prev;
            using var cx = clamped.X0;
            Assert.Equal(1f, cp[0, 0].item<float>(), 4); // images are clamped to [-1, 1]
        }
    }

    void AssertMoments(Tensor expected, Tensor actual, double meanTolerance, double covarianceTolerance)
    {
        using var scope = NewDisposeScope();
        var std = expected.std([0]);
        var meanError = ((actual.mean([0]) - expected.mean([0])) / std).abs().max().item<double>();
        Assert.True(meanError < meanTolerance, $"means differ by {meanError:F3} standard deviations");
        // Covariances compared after scaling each dimension by the data's standard deviation (a correlation-scale error).
        var ce = Covariance(expected / std);
        var ca = Covariance(actual / std);
        var err = (ca - ce).abs().max().item<double>();
        log.WriteLine($"mean error {meanError:F4} sd, scaled covariance error {err:F4}");
        Assert.True(err < covarianceTolerance, $"scaled covariances differ by up to {err:F3}\nexpected {ce.ToString(TorchSharp.TensorStringStyle.Numpy)}\nactual {ca.ToString(TorchSharp.TensorStringStyle.Numpy)}");
    }

    static Tensor Covariance(Tensor x)
    {
        var c = x - x.mean([0], keepdim: true);
        return matmul(c.t(), c) / (x.shape[0] - 1);
    }
}
