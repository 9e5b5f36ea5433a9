using Hypha.Models.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Sampling.Priors;

/// <summary>The shape of each mixture component's covariance.</summary>
public enum CovarianceKind
{
    /// <summary>A full L x L covariance per component (sklearn's <c>full</c>, pythae's GMM sampler).</summary>
    Full,

    /// <summary>A diagonal covariance per component: L variances (sklearn's <c>diag</c>).</summary>
    Diag,
}

/// <summary>How <see cref="GaussianMixture.Fit"/> fits; the defaults are sklearn's GaussianMixture's, which pythae's
/// GMM sampler uses, except the initialization (k-means++ seeding and a few Lloyd iterations).</summary>
public sealed record GmmOptions
{
    /// <summary>Mixture components k; default 10 (pythae's GaussianMixtureSampler).</summary>
    public int Components { get; init; } = 10;

    /// <summary>Covariance of each component; default full.</summary>
    public CovarianceKind Covariance { get; init; } = CovarianceKind.Full;

    /// <summary>Added to every covariance's diagonal after each M step, so no component collapses onto a point or a
    /// subspace (a VAE's inactive latent dimensions have posterior means of almost no spread); default 1e-6 (sklearn).</summary>
    public double RegCovar { get; init; } = 1e-6;

    /// <summary>EM iterations at most; default 100 (sklearn).</summary>
    public int MaxIterations { get; init; } = 100;

    /// <summary>EM stops when the mean log-likelihood per latent vector rises by less than this; default 1e-3 (sklearn).</summary>
    public double Tolerance { get; init; } = 1e-3;

    /// <summary>Lloyd (k-means) iterations after the k-means++ seeding, before EM; default 10 (0: the seeds alone).</summary>
    public int KMeansIterations { get; init; } = 10;

    /// <summary>Seed of the k-means++ seeding; default 0.</summary>
    public int Seed { get; init; }

    /// <summary>Checks the numbers; a configuration error naming the option.</summary>
    public GmmOptions Validated()
    {
        if (Components < 1 || Components > 10_000) throw HyphaException.Config($"--components must be in 1..10000 (got {Components})");
        if (!(RegCovar >= 0) || double.IsInfinity(RegCovar)) throw HyphaException.Config($"--reg-covar must be 0 or positive (got {RegCovar})");
        if (MaxIterations < 1) throw HyphaException.Config($"--max-iter must be at least 1 (got {MaxIterations})");
        if (!(Tolerance >= 0) || double.IsInfinity(Tolerance)) throw HyphaException.Config($"--tol must be 0 or positive (got {Tolerance})");
        if (KMeansIterations < 0) throw HyphaException.Config($"--kmeans-iter must be 0 or positive (got {KMeansIterations})");
        return this;
    }
}

/// <summary>How an EM fit went.</summary>
/// <param name="LogLikelihood">The mean log-likelihood per vector (nats) of the parameters at the start of each
/// iteration, then of the final parameters: entry 0 is the initialization's, the last the result's.</param>
/// <param name="Iterations">EM iterations run.</param>
/// <param name="Converged">Whether the last rise was below the tolerance (else the iteration limit stopped it).</param>
public sealed record EmTrace(IReadOnlyList<double> LogLikelihood, int Iterations, bool Converged);

/// <summary>
/// A Gaussian mixture p(z) = sum_k w_k N(z; mu_k, Sigma_k) over vectors of size L, in float64 (EM on float32 loses the
/// small log-likelihood gains of its last iterations to rounding). <see cref="Fit"/> is EM (Dempster et al. 1977) in the
/// log domain, as sklearn's GaussianMixture: E step responsibilities by log-sum-exp over Cholesky-factored Gaussian log
/// densities, M step weights N_k / N, means and (full or diagonal) covariances with <see cref="GmmOptions.RegCovar"/> on
/// the diagonal. Holds its tensors on the CPU.
/// </summary>
public sealed class GaussianMixture : IDisposable
{
    const int Block = 4096; // rows per block of the E and M steps: bounds memory at k x Block x L doubles
    const double MachineEpsilon = 2.220446049250313e-16; // float64's, numpy.finfo(float64).eps

    /// <summary>Mixture weights [k], summing to 1.</summary>
    public Tensor Weights { get; }

    /// <summary>Component means [k, L].</summary>
    public Tensor Means { get; }

    /// <summary>Covariances: [k, L, L] (full) or variances [k, L] (diag).</summary>
    public Tensor Covariances { get; }

    public CovarianceKind Kind { get; }

    /// <summary>Lower Cholesky factors [k, L, L] of the covariances (full) or standard deviations [k, L] (diag).</summary>
    readonly Tensor _factor;

    /// <summary>log |Sigma_k| [k].</summary>
    readonly Tensor _logDet;

    public int Components => (int)Weights.shape[0];

    public int Dimensions => (int)Means.shape[1];

    /// <summary>A mixture from its parameters (copied to float64 on the CPU); an error naming the component whose
    /// covariance is not positive definite.</summary>
    public GaussianMixture(Tensor weights, Tensor means, Tensor covariances, CovarianceKind kind)
    {
        Kind = kind;
        Weights = weights.to(ScalarType.Float64, CPU).clone().DetachFromDisposeScope();
        Means = means.to(ScalarType.Float64, CPU).clone().DetachFromDisposeScope();
        Covariances = covariances.to(ScalarType.Float64, CPU).clone().DetachFromDisposeScope();
        var (k, l) = (Means.shape[0], Means.shape[1]);
        if (Weights.shape.Length != 1 || Weights.shape[0] != k)
            throw new ArgumentException($"weights [{string.Join(", ", Weights.shape)}] do not match means [{k}, {l}]");
        long[] expected = kind == CovarianceKind.Full ? [k, l, l] : [k, l];
        if (!Covariances.shape.SequenceEqual(expected))
            throw new ArgumentException($"{kind} covariances [{string.Join(", ", Covariances.shape)}] do not match means [{k}, {l}]");
        using var scope = NewDisposeScope();
        if (kind == CovarianceKind.Full)
        {
            var (factor, info) = linalg.cholesky_ex(Covariances);
            var bad = info.data<int>().ToArray().Select((v, i) => (v, i)).FirstOrDefault(p => p.v != 0);
            if (bad.v != 0)
                throw HyphaException.Config($"the covariance of mixture component {bad.i} is not positive definite (raise --reg-covar)");
            _factor = factor.MoveToOuterDisposeScope();
            _logDet = (2 * factor.diagonal(0, 1, 2).log().sum(1)).MoveToOuterDisposeScope();
        }
        else
        {
            if (Covariances.le(0).any().item<bool>())
                throw HyphaException.Config("a mixture component has a variance of 0 or less (raise --reg-covar)");
            _factor = Covariances.sqrt().MoveToOuterDisposeScope();
            _logDet = Covariances.log().sum(1).MoveToOuterDisposeScope();
        }
        _factor.DetachFromDisposeScope();
        _logDet.DetachFromDisposeScope();
    }

    /// <summary>log w_k + log N(x_n; mu_k, Sigma_k) for rows x [N, L] (any float type): [N, k], float64.</summary>
    public Tensor WeightedLogDensities(Tensor x)
    {
        using var scope = NewDisposeScope();
        var data = x.to(ScalarType.Float64, CPU);
        var (n, l) = (data.shape[0], data.shape[1]);
        if (l != Dimensions) throw new ArgumentException($"vectors of size {l}, the mixture's are {Dimensions}", nameof(x));
        var result = empty([n, Components], ScalarType.Float64);
        var constant = l * Math.Log(2 * Math.PI);
        var logW = Weights.log();
        for (long s = 0; s < n; s += Block)
        {
            using var inner = NewDisposeScope();
            var xb = data.narrow(0, s, Math.Min(Block, n - s));
            var diff = xb.unsqueeze(0) - Means.unsqueeze(1); // [k, b, L]
            Tensor maha;
            if (Kind == CovarianceKind.Full)
            {
                // Solve L_k y = diff^T: |y|^2 = diff^T Sigma_k^-1 diff.
                var y = linalg.solve_triangular(_factor, diff.transpose(1, 2), upper: false); // [k, L, b]
                maha = y.square().sum(1); // [k, b]
            }
            else
                maha = (diff / _factor.unsqueeze(1)).square().sum(2); // [k, b]
            var logN = -0.5 * (maha + _logDet.unsqueeze(1) + constant);
            result.narrow(0, s, xb.shape[0]).copy_((logN + logW.unsqueeze(1)).t());
        }
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>log p(x_n) for rows x [N, L]: [N], float64.</summary>
    public Tensor LogLikelihood(Tensor x)
    {
        using var scope = NewDisposeScope();
        return WeightedLogDensities(x).logsumexp(1).MoveToOuterDisposeScope();
    }

    /// <summary>The mean of <see cref="LogLikelihood"/> over the rows of x (nats per vector).</summary>
    public double MeanLogLikelihood(Tensor x)
    {
        using var ll = LogLikelihood(x);
        using var mean = ll.mean();
        return mean.item<double>();
    }

    /// <summary>
    /// Vectors [count, L], float32 on the CPU: rows <paramref name="start"/> .. start + count - 1 of the sequence of
    /// <paramref name="seed"/>. Row i draws its component (u ~ U[0, 1) against the cumulative weights) and eps ~ N(0, I)
    /// from its own generator seeded from (seed, start + i) (<see cref="SampleNoise"/>), then z = mu_k + L_k eps.
    /// </summary>
    public Tensor Sample(long seed, int start, int count)
    {
        if (count < 1) throw new ArgumentException("no samples asked for", nameof(count));
        using var scope = NewDisposeScope();
        var generators = SampleNoise.Generators(seed, start, count);
        try
        {
            var u = new double[count];
            var eps = new Tensor[count];
            for (var i = 0; i < count; i++)
            {
                using var ui = rand([1], ScalarType.Float64, generator: generators[i]);
                u[i] = ui.item<double>();
                eps[i] = randn([Dimensions], ScalarType.Float64, generator: generators[i]);
            }
            var cumulative = Weights.cumsum(0).data<double>().ToArray();
            // The first component whose cumulative weight exceeds u; the last when rounding leaves the total below u.
            var picks = u.Select(v => (long)(Array.FindIndex(cumulative, c => v < c) is var k and >= 0 ? k : cumulative.Length - 1)).ToArray();
            var index = tensor(picks);
            var e = stack(eps); // [count, L]
            var mu = Means.index_select(0, index);
            var z = Kind == CovarianceKind.Full
                ? mu + matmul(_factor.index_select(0, index), e.unsqueeze(2)).squeeze(2)
                : mu + _factor.index_select(0, index) * e;
            return z.to_type(ScalarType.Float32).MoveToOuterDisposeScope();
        }
        finally
        {
            foreach (var g in generators) g.Dispose();
        }
    }

    /// <summary>
    /// EM on rows x [N, L] (any float type; copied to float64 on the CPU), from k-means++ seeds refined by
    /// <see cref="GmmOptions.KMeansIterations"/> Lloyd iterations (each vector's nearest centre gives its initial
    /// responsibility). <paramref name="progress"/> sees each iteration's number and the mean log-likelihood of the
    /// parameters it started from. Needs at least k vectors.
    /// </summary>
    public static (GaussianMixture Mixture, EmTrace Trace) Fit(Tensor x, GmmOptions options, Action<int, double>? progress = null)
    {
        options = options.Validated();
        using var scope = NewDisposeScope();
        var data = x.to(ScalarType.Float64, CPU).contiguous();
        if (data.dim() != 2) throw new ArgumentException("vectors as rows [N, L]", nameof(x));
        var (n, l) = (data.shape[0], data.shape[1]);
        var k = options.Components;
        if (n < k) throw HyphaException.Config($"--components {k} needs at least {k} latent vectors, there are {n}");
        if (!data.isfinite().all().item<bool>()) throw new HyphaException(ExitCode.BadCheckpoint, "the encoder gave NaN or infinite posterior means; the checkpoint cannot be fitted");

        var centres = KMeans(data, k, options.KMeansIterations, options.Seed);
        var resp = nn.functional.one_hot(Nearest(data, centres), k).to_type(ScalarType.Float64);
        var mixture = MStep(data, resp, options);
        var history = new List<double>();
        var converged = false;
        var iterations = 0;
        for (var it = 0; it < options.MaxIterations; it++)
        {
            using var step = NewDisposeScope();
            var weighted = mixture.WeightedLogDensities(data);
            var logNorm = weighted.logsumexp(1, keepdim: true);
            var ll = logNorm.mean().item<double>();
            history.Add(ll);
            progress?.Invoke(it + 1, ll);
            if (it > 0 && history[^1] - history[^2] < options.Tolerance)
            {
                converged = true;
                break;
            }
            var next = MStep(data, (weighted - logNorm).exp(), options);
            mixture.Dispose();
            mixture = next;
            iterations++;
        }
        if (!converged) history.Add(mixture.MeanLogLikelihood(data));
        return (mixture, new EmTrace(history, iterations, converged));
    }

    /// <summary>The M step: weights, means and regularized covariances from responsibilities [N, k].</summary>
    static GaussianMixture MStep(Tensor data, Tensor resp, GmmOptions options)
    {
        using var scope = NewDisposeScope();
        var (n, l) = (data.shape[0], data.shape[1]);
        var nk = resp.sum([0]) + 10 * MachineEpsilon; // as sklearn: keeps an emptied component's division finite
        var means = matmul(resp.t(), data) / nk.unsqueeze(1);
        var k = means.shape[0];
        Tensor cov = options.Covariance == CovarianceKind.Full ? zeros([k, l, l], ScalarType.Float64) : zeros([k, l], ScalarType.Float64);
        for (long s = 0; s < n; s += Block)
        {
            using var inner = NewDisposeScope();
            var len = Math.Min(Block, n - s);
            var diff = data.narrow(0, s, len).unsqueeze(0) - means.unsqueeze(1); // [k, b, L]
            var r = resp.narrow(0, s, len).t().unsqueeze(2); // [k, b, 1]
            if (options.Covariance == CovarianceKind.Full) cov.add_(matmul((diff * r).transpose(1, 2), diff));
            else cov.add_((diff.square() * r).sum(1));
        }
        cov = cov / (options.Covariance == CovarianceKind.Full ? nk.view(-1, 1, 1) : nk.view(-1, 1));
        if (options.Covariance == CovarianceKind.Full)
            cov = cov + options.RegCovar * eye(l, dtype: ScalarType.Float64).unsqueeze(0);
        else
            cov = cov + options.RegCovar;
        return new GaussianMixture(nk / n, means, cov, options.Covariance);
    }

    /// <summary>k-means++ seeding (Arthur and Vassilvitskii 2007: each next centre drawn with probability proportional to
    /// the squared distance to the nearest centre so far) from a generator seeded by <paramref name="seed"/>, then
    /// <paramref name="iterations"/> Lloyd iterations (an emptied cluster keeps its centre). Returns centres [k, L].</summary>
    public static Tensor KMeans(Tensor data, int k, int iterations, int seed)
    {
        using var scope = NewDisposeScope();
        using var gen = Evaluation.Seeds.Generator(seed, 0x63A);
        var n = data.shape[0];
        var first = randint(0, n, [1], ScalarType.Int64, generator: gen).item<long>();
        var centres = new List<Tensor> { data[first] };
        var d2 = (data - data[first]).square().sum(1);
        for (var c = 1; c < k; c++)
        {
            var total = d2.sum().item<double>();
            long pick;
            if (total > 0) pick = multinomial(d2 / total, 1, generator: gen).item<long>();
            else pick = randint(0, n, [1], ScalarType.Int64, generator: gen).item<long>(); // every vector is a centre already
            centres.Add(data[pick]);
            d2 = minimum(d2, (data - data[pick]).square().sum(1));
        }
        var result = stack(centres);
        for (var it = 0; it < iterations; it++)
        {
            using var inner = NewDisposeScope();
            var labels = Nearest(data, result);
            var onehot = nn.functional.one_hot(labels, k).to_type(ScalarType.Float64); // [N, k]
            var counts = onehot.sum([0]);
            var sums = matmul(onehot.t(), data);
            var moved = where(counts.unsqueeze(1) > 0, sums / counts.clamp_min(1).unsqueeze(1), result);
            var shift = (moved - result).abs().max().item<double>();
            result = moved.MoveToOuterDisposeScope();
            if (shift == 0) break;
        }
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Index [N] (int64) of each row's nearest centre.</summary>
    static Tensor Nearest(Tensor data, Tensor centres)
    {
        using var scope = NewDisposeScope();
        var labels = empty([data.shape[0]], ScalarType.Int64);
        for (long s = 0; s < data.shape[0]; s += Block)
        {
            using var inner = NewDisposeScope();
            var xb = data.narrow(0, s, Math.Min(Block, data.shape[0] - s));
            var d = xb.square().sum(1, keepdim: true) - 2 * matmul(xb, centres.t()) + centres.square().sum(1).unsqueeze(0);
            labels.narrow(0, s, xb.shape[0]).copy_(d.argmin(1));
        }
        return labels.MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Weights.Dispose();
        Means.Dispose();
        Covariances.Dispose();
        _factor.Dispose();
        _logDet.Dispose();
    }
}
