using System.Globalization;
using Hypha.Models;
using Hypha.Reporting;
using Hypha.Runs;

namespace Hypha.Training.Observers;

/// <summary>Redraws one curve per plotted loss term of the model's family (plots/loss.png, ...; see
/// <see cref="LossTermInfo"/>) from metrics.csv after each epoch, so resumed runs plot their whole history.</summary>
public sealed class CurvesObserver : ITrainingObserver
{
    /// <summary>The metrics.csv column whose changes mark a boundary on the curves (a progressive VAE's stage).</summary>
    public const string MarkerColumn = "stage";

    public void OnStart(TrainingContext context, CheckpointHeader? resumedFrom) { }
    public void OnMetrics(MetricsRow row) { }

    public void OnEpochEnd(int epoch, TrainingContext context) => Draw(context.Run, context.Config.Model);

    public void Dispose() { }

    /// <summary>Writes the curve PNGs of a run folder; also used by <c>hypha report</c>. Returns the terms drawn.</summary>
    public static IReadOnlyList<LossTermInfo> Draw(RunFolder run, ModelOptions model)
    {
        var rows = MetricsCsvObserver.Read(run.MetricsCsv);
        if (rows.Count == 0) return [];
        var markers = StageMarkers(rows);
        var drawn = new List<LossTermInfo>();
        foreach (var term in model.Descriptor.TermsFor(model).Where(t => t.Plot && rows[0].ContainsKey(t.Name)))
        {
            AtomicFile.WriteAllBytes(Path.Combine(run.PlotsDir, term.PlotFile), CurvePlot.Render(
                term.Title, "images seen", term.Name, [Series(rows, "train", term.Name), Series(rows, "val", term.Name)], markers, logY: term.LogScale));
            drawn.Add(term);
        }
        return drawn;
    }

    static Series Series(List<Dictionary<string, string>> rows, string phase, string column)
    {
        var picked = rows.Where(r => r["phase"] == phase && double.TryParse(r[column], CultureInfo.InvariantCulture, out _)).ToList();
        return new Series(phase == "val" ? "validation" : "training",
            picked.Select(r => double.Parse(r["images_seen"], CultureInfo.InvariantCulture)).ToList(),
            picked.Select(r => double.Parse(r[column], CultureInfo.InvariantCulture)).ToList());
    }

    static List<(double, string)> StageMarkers(List<Dictionary<string, string>> rows)
    {
        var markers = new List<(double, string)>();
        string? last = null;
        foreach (var r in rows.Where(r => r.ContainsKey(MarkerColumn) && r["phase"] == "train"))
        {
            if (last is not null && r[MarkerColumn] != last)
                markers.Add((double.Parse(r["images_seen"], CultureInfo.InvariantCulture), $"{MarkerColumn} {r[MarkerColumn]}"));
            last = r[MarkerColumn];
        }
        return markers;
    }
}
