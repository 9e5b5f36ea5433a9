namespace Hypha.Evaluation;

/// <summary>What one <see cref="RunEvaluation.Run"/> produced.</summary>
/// <param name="Record">The evaluation, as appended to metrics.jsonl.</param>
/// <param name="MetricsPath">The metrics.jsonl it was appended to.</param>
/// <param name="ArtifactsDir">The folder holding the closest-pair images (null when memorization was not computed).</param>
public sealed record RunEvaluationResult(EvaluationRecord Record, string MetricsPath, string? ArtifactsDir);
