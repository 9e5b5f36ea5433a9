namespace Hypha.Evaluation;

/// <summary>Runs a list of registered metrics on one <see cref="EvaluationInputs"/> and collects an <see cref="EvaluationRecord"/>.</summary>
public static class Evaluator
{
    /// <summary>
    /// Computes <paramref name="names"/> (default: every registered metric) in order. A metric whose inputs are
    /// missing (e.g. no model for iwae_bits_per_dim) is listed in <see cref="EvaluationRecord.Skipped"/>; other
    /// failures propagate. <paramref name="progress"/> is called after each metric.
    /// </summary>
    public static EvaluationRecord Run(MetricRegistry registry, EvaluationInputs inputs,
        IEnumerable<string>? names = null, IReadOnlyDictionary<string, string>? context = null,
        Action<MetricResult>? progress = null)
    {
        inputs.Validate();
        var results = new List<MetricResult>();
        var skipped = new Dictionary<string, string>();
        foreach (var name in names ?? registry.Names)
        {
            var metric = registry.Create(name);
            var missing = metric.MissingInputs(inputs);
            if (missing is not null) { skipped[name] = missing; continue; }
            var result = metric.Compute(inputs);
            results.Add(result);
            progress?.Invoke(result);
        }
        return new EvaluationRecord(DateTimeOffset.UtcNow, inputs.Seed,
            context ?? new Dictionary<string, string>(), results, skipped);
    }
}
