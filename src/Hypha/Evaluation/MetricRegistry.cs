namespace Hypha.Evaluation;

/// <summary>
/// Metric factories by name. <see cref="CreateDefault"/> registers every Hypha metric with its defaults
/// (<see cref="Keys"/>). The ResNet18 featurizer is loaded on first use by a feature-space metric, shared by them,
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
        foreach (var (name, factory) in Defaults) r.Register(name, () => factory(lazy));
        return r;
    }

    /// <summary>The names of every Hypha metric, in the order <see cref="CreateDefault"/> registers and reports them.</summary>
    public static IReadOnlyList<string> Keys { get; } = Defaults.Select(d => d.Name).ToList();

    /// <summary>Every Hypha metric: the one list of their names and factories.</summary>
    static IReadOnlyList<(string Name, Func<Lazy<ResNet18Featurizer>, IMetric> Factory)> Defaults =>
    [
        (PsnrMetric.Key, _ => new PsnrMetric()),
        (SsimMetric.Key, _ => new SsimMetric()),
        (IwaeMetric.Key, _ => new IwaeMetric()),
        (SwdMetric.Key, _ => new SwdMetric()),
        (MsSsimMetric.Key, _ => new MsSsimMetric()),
        ("fd_resnet18", f => new FrechetDistanceMetric(f.Value)),
        (KidMetric.Key, f => new KidMetric(f.Value)),
        (PrecisionMetric.Key, f => new PrecisionMetric(f.Value)),
        (RecallMetric.Key, f => new RecallMetric(f.Value)),
        (DensityMetric.Key, f => new DensityMetric(f.Value)),
        (CoverageMetric.Key, f => new CoverageMetric(f.Value)),
        (MemorizationMetric.Key, _ => new MemorizationMetric()),
    ];

    /// <summary>Disposes the shared featurizer if it was loaded.</summary>
    public void Dispose()
    {
        if (resnet is { IsValueCreated: true }) resnet.Value.Dispose();
        resnet = null;
    }
}
