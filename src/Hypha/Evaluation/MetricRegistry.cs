namespace Hypha.Evaluation;

/// <summary>
/// Metric factories by name. <see cref="CreateDefault"/> registers every Hypha metric with its defaults:
/// psnr, ssim, iwae_bits_per_dim, swd, ms_ssim, fd_resnet18, kid, precision, recall, density, coverage,
/// memorization. The ResNet18 featurizer is loaded on first use by a feature-space metric, shared by them,
/// and disposed with the registry.
/// </summary>
public sealed class MetricRegistry : IDisposable
{
    readonly Dictionary<string, Func<IMetric>> factories = new(StringComparer.Ordinal);
    readonly List<string> order = [];
    Lazy<ResNet18Featurizer>? resnet;

    /// <summary>Registered names, in registration order.</summary>
    public IReadOnlyList<string> Names => order;

    /// <summary>Whether <paramref name="name"/> is registered.</summary>
    public bool Contains(string name) => factories.ContainsKey(name);

    /// <summary>Registers (or replaces) a metric factory under <paramref name="name"/>.</summary>
    public MetricRegistry Register(string name, Func<IMetric> factory)
    {
        if (!factories.ContainsKey(name)) order.Add(name);
        factories[name] = factory;
        return this;
    }

    /// <summary>A new metric instance; throws <see cref="KeyNotFoundException"/> listing the known names.</summary>
    public IMetric Create(string name) =>
        factories.TryGetValue(name, out var f)
            ? f()
            : throw new KeyNotFoundException($"unknown metric '{name}'; known: {string.Join(", ", order)}");

    /// <summary>
    /// Every Hypha metric with default settings. <paramref name="resnetModelDir"/>: folder holding
    /// ResNet18Onnx/ and ResNetPrepOnnx/ (default: DnnImageModels/ beside the application).
    /// </summary>
    public static MetricRegistry CreateDefault(string? resnetModelDir = null)
    {
        var r = new MetricRegistry();
        var lazy = new Lazy<ResNet18Featurizer>(() => new ResNet18Featurizer(resnetModelDir));
        r.resnet = lazy;
        r.Register(PsnrMetric.Key, () => new PsnrMetric());
        r.Register(SsimMetric.Key, () => new SsimMetric());
        r.Register(IwaeMetric.Key, () => new IwaeMetric());
        r.Register(SwdMetric.Key, () => new SwdMetric());
        r.Register(MsSsimMetric.Key, () => new MsSsimMetric());
        r.Register("fd_resnet18", () => new FrechetDistanceMetric(lazy.Value));
        r.Register(KidMetric.Key, () => new KidMetric(lazy.Value));
        r.Register(PrecisionMetric.Key, () => new PrecisionMetric(lazy.Value));
        r.Register(RecallMetric.Key, () => new RecallMetric(lazy.Value));
        r.Register(DensityMetric.Key, () => new DensityMetric(lazy.Value));
        r.Register(CoverageMetric.Key, () => new CoverageMetric(lazy.Value));
        r.Register(MemorizationMetric.Key, () => new MemorizationMetric());
        return r;
    }

    /// <summary>Disposes the shared featurizer if it was loaded.</summary>
    public void Dispose()
    {
        if (resnet is { IsValueCreated: true }) resnet.Value.Dispose();
        resnet = null;
    }
}
