using System.Globalization;
using Hypha.Reporting;
using Hypha.Runs;

namespace Hypha.Training.Observers;

/// <summary>Redraws plots/loss.png and plots/kl.png from metrics.csv after each epoch (so resumed runs plot their whole history).</summary>
public sealed class CurvesObserver : ITrainingObserver
{
    /// <summary>Columns whose changes mark a boundary on the curves (a progressive VAE's stage).</summary>
    public static string MarkerColumn { get; set; } = "stage";

    public void OnStart(TrainingContext context, CheckpointHeader? resumedFrom) { }
    public void OnMetrics(MetricsRow row) { }

    public void OnEpochEnd(int epoch, TrainingContext context) => Draw(context.Run);

    public void Dispose() { }

    /// <summary>Writes the curve PNGs of a run folder; also used by <c>hypha report</c>.</summary>
    public static void Draw(RunFolder run)
    {
        var rows = MetricsCsvObserver.Read(run.MetricsCsv);
        if (rows.Count == 0) return;
        var markers = StageMarkers(rows);
        AtomicFile.WriteAllBytes(Path.Combine(run.PlotsDir, "loss.png"), CurvePlot.Render(
            "Loss (summed MSE + beta KL) per image", "images seen", "loss", [Series(rows, "train", "loss"), Series(rows, "val", "loss")], markers, logY: true));
        AtomicFile.WriteAllBytes(Path.Combine(run.PlotsDir, "kl.png"), CurvePlot.Render(
            "KL divergence per image", "images seen", "KL (nats)", [Series(rows, "train", "kl"), Series(rows, "val", "kl")], markers));
        AtomicFile.WriteAllBytes(Path.Combine(run.PlotsDir, "mse.png"), CurvePlot.Render(
            "Reconstruction error per pixel", "images seen", "MSE per pixel", [Series(rows, "train", "mse_per_pixel"), Series(rows, "val", "mse_per_pixel")], markers, logY: true));
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
