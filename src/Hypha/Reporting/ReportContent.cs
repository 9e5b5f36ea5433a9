using Hypha.Data;
using Hypha.Evaluation;
using Hypha.Runs;

namespace Hypha.Reporting;

/// <summary>Everything the report page shows, gathered by <see cref="RunReport.Collect"/> and rendered by <see cref="ReportPage.Render"/>.</summary>
public sealed record ReportContent
{
    /// <summary>The run folder's name.</summary>
    public required string RunName { get; init; }
    /// <summary>The run folder's full path (shown, and used in the commands the page suggests).</summary>
    public required string RunPath { get; init; }
    /// <summary>When the page was made.</summary>
    public DateTimeOffset Generated { get; init; } = DateTimeOffset.UtcNow;
    /// <summary>The run's configuration.</summary>
    public required RunConfig Config { get; init; }
    /// <summary>config.json as written in the run folder.</summary>
    public required string ConfigJson { get; init; }
    /// <summary>dataset.json, when present.</summary>
    public DatasetSummary? Dataset { get; init; }
    /// <summary>One line on the checkpoint the pictures come from (epoch, images seen, written when).</summary>
    public string? CheckpointSummary { get; init; }
    /// <summary>Loss, KL and MSE curves (plots/*.png).</summary>
    public IReadOnlyList<ReportFigure> Curves { get; init; } = [];
    /// <summary>Test chunks beside their reconstructions.</summary>
    public ReportFigure? Reconstructions { get; init; }
    /// <summary>Samples decoded from the prior.</summary>
    public ReportFigure? Samples { get; init; }
    /// <summary>One line on the model family (its descriptor's summary).</summary>
    public string ModelSummary { get; init; } = "";
    /// <summary>Sample grids from the fixed seed at evenly spaced epochs (grids/history), when training kept them.</summary>
    public ReportFigure? SampleHistory { get; init; }
    /// <summary>One sample's denoising trajectory, for models that make images step by step.</summary>
    public ReportFigure? Trajectory { get; init; }
    /// <summary>Sections the model cannot fill (<c>reconstructions</c>, <c>interpolations</c>), with the reason shown instead.</summary>
    public IReadOnlyDictionary<string, string> Lacks { get; init; } = new Dictionary<string, string>();
    /// <summary>Whole images of the latest <c>hypha synthesize</c> beside crops of the real sources at the same scale; null when none was recorded.</summary>
    public ReportFigure? WholeImages { get; init; }
    /// <summary>Latent interpolations between real test chunks.</summary>
    public ReportFigure? Interpolations { get; init; }
    /// <summary>The latest line of metrics.jsonl of the model itself (not of a samples folder); null when the run was never evaluated.</summary>
    public EvaluationRecord? Evaluation { get; init; }
    /// <summary>Set when the evaluation is of an older checkpoint than the pictures: says so.</summary>
    public string? EvaluationNote { get; init; }
    /// <summary>The memorization check's closest sample / training pairs, closest first.</summary>
    public IReadOnlyList<ReportPair> ClosestPairs { get; init; } = [];
    /// <summary>The latest <c>hypha evaluate --samples FOLDER</c> line of each folder, shown beside the model's numbers.</summary>
    public IReadOnlyList<EvaluationRecord> SampleFolderEvaluations { get; init; } = [];
}
