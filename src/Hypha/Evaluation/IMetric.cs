namespace Hypha.Evaluation;

/// <summary>An evaluation metric: computes its value for the model and its real-vs-real floor from <see cref="EvaluationInputs"/>.</summary>
public interface IMetric
{
    /// <summary>Registry key, also the name in metrics.jsonl.</summary>
    string Name { get; }

    /// <summary>Definition version; bumped whenever the definition or a default changes.</summary>
    int Version { get; }

    /// <summary>Null when <paramref name="inputs"/> has what this metric needs, else a short reason (e.g. "no samples").</summary>
    string? MissingInputs(EvaluationInputs inputs);

    /// <summary>Computes the value and its floor. Deterministic for a given <see cref="EvaluationInputs.Seed"/>.</summary>
    MetricResult Compute(EvaluationInputs inputs);
}
