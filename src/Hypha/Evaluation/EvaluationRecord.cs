namespace Hypha.Evaluation;

/// <summary>One evaluation: one line of metrics.jsonl.</summary>
/// <param name="Timestamp">When the evaluation finished (UTC).</param>
/// <param name="Seed">The evaluation seed (<see cref="EvaluationInputs.Seed"/>).</param>
/// <param name="Context">Free-form identification from the caller: run id, checkpoint, step, data set, ...</param>
/// <param name="Metrics">Results in the order they were computed.</param>
/// <param name="Skipped">Metrics that were asked for but not computed, with the reason.</param>
public sealed record EvaluationRecord(
    DateTimeOffset Timestamp,
    long Seed,
    IReadOnlyDictionary<string, string> Context,
    IReadOnlyList<MetricResult> Metrics,
    IReadOnlyDictionary<string, string> Skipped);
