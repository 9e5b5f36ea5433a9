using Hypha.Evaluation;
using Hypha.Models;
using OpenCvSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Tests.Evaluation;

/// <summary>Small generated and real images for the evaluation tests.</summary>
internal static class TestImages
{
    static readonly Lazy<Tensor> amfChunks = new(LoadAmfChunks);

    /// <summary>
    /// Non-overlapping 64x64 gray chunks [N, 1, 64, 64] cut from the first amf_ink_roots image (the image is
    /// halved first, to 844x649, so that chunks hold roots and not only flat background): 130 chunks, row-major.
    /// Shared by the tests; do not dispose.
    /// </summary>
    public static Tensor AmfChunks => amfChunks.Value;

    static Tensor LoadAmfChunks()
    {
        var path = SharedData.Path("amf_ink_roots", "N_benthamiana_roots_R_irregularis_ink_low_magnification_1.jpg");
        using var full = Cv2.ImRead(path, ImreadModes.Grayscale);
        if (full.Empty()) throw new FileNotFoundException("could not read", path);
        using var img = new Mat();
        Cv2.Resize(full, img, new OpenCvSharp.Size(full.Width / 2, full.Height / 2), interpolation: InterpolationFlags.Area);
        const int side = 64;
        int rows = img.Rows / side, cols = img.Cols / side;
        var data = new float[rows * cols * side * side];
        var k = 0;
        for (var r = 0; r < rows; r++)
        for (var c = 0; c < cols; c++)
        for (var y = 0; y < side; y++)
        for (var x = 0; x < side; x++)
            data[k++] = img.At<byte>(r * side + y, c * side + x) / 255f;
        return tensor(data, [rows * cols, 1, side, side]).DetachFromDisposeScope();
    }

    /// <summary>Four 64x64 RGB chunks [4, 3, 64, 64] from the middle of the same (halved) amf_ink_roots image.</summary>
    public static Tensor AmfRgbChunks()
    {
        var path = SharedData.Path("amf_ink_roots", "N_benthamiana_roots_R_irregularis_ink_low_magnification_1.jpg");
        using var full = Cv2.ImRead(path, ImreadModes.Color);
        using var img = new Mat();
        Cv2.Resize(full, img, new OpenCvSharp.Size(full.Width / 2, full.Height / 2), interpolation: InterpolationFlags.Area);
        const int side = 64;
        var data = new float[4 * 3 * side * side];
        for (var n = 0; n < 4; n++)
        for (var y = 0; y < side; y++)
        for (var x = 0; x < side; x++)
        {
            var bgr = img.At<Vec3b>(img.Rows / 2 + y, img.Cols / 2 + (n - 2) * side + x);
            for (var c = 0; c < 3; c++) data[((n * 3 + c) * side + y) * side + x] = bgr[2 - c] / 255f; // to RGB
        }
        return tensor(data, [4, 3, side, side]);
    }

    /// <summary>Smooth random images [n, c, side, side] in [0, 1]: upsampled noise, deterministic from the seed.</summary>
    public static Tensor Smooth(int n, int c, int side, int seed)
    {
        using var scope = NewDisposeScope();
        var gen = new Generator((ulong)seed);
        var coarse = rand([n, c, side / 8, side / 8], generator: gen);
        var x = nn.functional.interpolate(coarse, [side, side], mode: InterpolationMode.Bilinear, align_corners: false);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>A VAE-like reconstruction: x downsampled 2x (average) and upsampled back (bilinear).</summary>
    public static Tensor Blurred(Tensor x)
    {
        using var scope = NewDisposeScope();
        var small = nn.functional.avg_pool2d(x, 2, 2);
        return nn.functional.interpolate(small, [x.shape[2], x.shape[3]], mode: InterpolationMode.Bilinear, align_corners: false)
            .MoveToOuterDisposeScope();
    }

    /// <summary>x plus Gaussian noise of std <paramref name="sigma"/>, clamped to [0, 1].</summary>
    public static Tensor Noisy(Tensor x, double sigma, int seed)
    {
        using var scope = NewDisposeScope();
        var gen = new Generator((ulong)seed);
        return (x + sigma * randn(x.shape, generator: gen)).clamp(0, 1).MoveToOuterDisposeScope();
    }
}

/// <summary>A cheap feature space for metric tests: 4x4 average-pooled pixels (16 values per channel).</summary>
internal sealed class PooledPixels : IFeatureExtractor
{
    public string Name => "pooled4";
    public int Dimension => 16;

    public Tensor Extract(Tensor images)
    {
        using var scope = NewDisposeScope();
        var pooled = nn.functional.adaptive_avg_pool2d(images[.., ..1], [4, 4]);
        return pooled.reshape(images.shape[0], 16).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// A linear Gaussian VAE whose marginal likelihood is exact: p(z) = N(0, I_L), p(x|z) = N(W z + b, sigma^2 I_D),
/// so p(x) = N(b, W W^T + sigma^2 I). Its encoder uses the exact posterior mean but a diagonal variance inflated
/// by <c>varianceScale</c>, so the ELBO is strictly loose and the IWAE bound has room to tighten.
/// </summary>
internal sealed class LinearGaussianVae : ILikelihoodModel
{
    readonly Tensor w, b, postMeanMatrix, postLogVar;
    readonly Holder holder = new();

    public double Sigma { get; }
    public string Kind => Hypha.Models.ResNetVae.ResNetVaeDescriptor.Key;
    public int Channels => 1;
    public int Resolution { get; }
    public int LatentSize { get; }
    public nn.Module Module => holder;

    sealed class Holder : nn.Module
    {
        public Holder() : base("linear_gaussian_vae") => RegisterComponents();
    }

    public LinearGaussianVae(int side, int latent, double sigma, double varianceScale, int seed)
    {
        Resolution = side;
        LatentSize = latent;
        Sigma = sigma;
        var d = side * side;
        var gen = new Generator((ulong)seed);
        w = (randn([d, latent], dtype: float64, generator: gen) * 0.3).DetachFromDisposeScope();
        b = (0.5 + 0.1 * randn([d], dtype: float64, generator: gen)).DetachFromDisposeScope();
        using var scope = NewDisposeScope();
        // Exact posterior: precision P = I + W^T W / sigma^2, mean P^-1 W^T (x - b) / sigma^2, covariance P^-1.
        var precision = eye(latent, dtype: float64) + w.t().matmul(w) / (sigma * sigma);
        var cov = linalg.inv(precision);
        postMeanMatrix = (cov.matmul(w.t()) / (sigma * sigma)).DetachFromDisposeScope();
        postLogVar = (cov.diagonal() * varianceScale).log().DetachFromDisposeScope();
    }

    public (Tensor Mu, Tensor LogVar) Encode(Tensor x)
    {
        var flat = x.reshape(x.shape[0], -1).to(float64) - b;
        var mu = flat.matmul(postMeanMatrix.t());
        return (mu.to(float32), postLogVar.to(float32).expand(x.shape[0], LatentSize));
    }

    public Tensor Decode(Tensor z) =>
        (z.to(float64).matmul(w.t()) + b).to(float32).reshape(z.shape[0], 1, Resolution, Resolution);

    /// <summary>Draws n images from the model.</summary>
    public Tensor Sample(int n, int seed)
    {
        using var scope = NewDisposeScope();
        var gen = new Generator((ulong)seed);
        var z = randn([n, LatentSize], dtype: float64, generator: gen);
        var x = z.matmul(w.t()) + b + Sigma * randn([n, Resolution * Resolution], dtype: float64, generator: gen);
        return x.to(float32).reshape(n, 1, Resolution, Resolution).MoveToOuterDisposeScope();
    }

    /// <summary>Exact mean log p(x) in nats per image.</summary>
    public double ExactLogLikelihood(Tensor x)
    {
        using var scope = NewDisposeScope();
        var d = Resolution * Resolution;
        var cov = w.matmul(w.t()) + Sigma * Sigma * eye(d, dtype: float64);
        var diff = x.reshape(x.shape[0], -1).to(float64) - b;
        var solved = linalg.solve(cov, diff.t());                    // [D, N]
        var maha = (diff.t() * solved).sum([0]);                     // [N]
        var logDet = linalg.slogdet(cov).Item2;
        var lp = -0.5 * (maha + logDet + d * Math.Log(2 * Math.PI));
        return lp.mean().item<double>();
    }

    public LossTerms Loss(Tensor x, LossContext context) => VaeMath.Loss(this, x, context, beta: 1);

    public Tensor Sample(SampleRequest request) => VaeMath.SamplePrior(this, request);

    public void Dispose()
    {
        w.Dispose(); b.Dispose(); postMeanMatrix.Dispose(); postLogVar.Dispose(); holder.Dispose();
    }
}
