using System.Globalization;
using System.Net;
using System.Text;
using Hypha.Evaluation;

namespace Hypha.Reporting;

/// <summary>
/// The report's "Other generators and baselines" section (id samples-folders, table id samples-folders-table): the
/// latest <c>hypha evaluate --samples FOLDER</c> line of each folder, one column per folder labelled with its name,
/// beside the model's own numbers and the floors.
/// </summary>
public static class SamplesFolderSection
{
    /// <summary>The latest model evaluation (lines without source "samples_folder") and the latest line of each samples folder (by absolute path), oldest folder first.</summary>
    public static (EvaluationRecord? Model, IReadOnlyList<EvaluationRecord> Folders) Latest(IReadOnlyList<EvaluationRecord> all)
    {
        var model = all.LastOrDefault(r => SampleFolderEvaluation.SourceOf(r) != SampleFolderEvaluation.Source);
        var folders = all.Where(r => SampleFolderEvaluation.SourceOf(r) == SampleFolderEvaluation.Source)
            .GroupBy(r => r.Context.GetValueOrDefault("samples_folder", ""))
            .Select(g => g.Last())
            .OrderBy(r => r.Timestamp)
            .ToList();
        return (model, folders);
    }

    /// <summary>Label of a folder's column: its name.</summary>
    public static string Label(EvaluationRecord r) => r.Context.GetValueOrDefault("samples_folder_name", "samples folder");

    /// <summary>Appends the section; nothing when no samples folder was evaluated.</summary>
    public static void Render(StringBuilder h, ReportContent c)
    {
        var folders = c.SampleFolderEvaluations;
        if (folders.Count == 0) return;
        h.Append("<section id=\"samples-folders\"><h2>Other generators and baselines</h2>");
        h.Append("<p>Folders of images scored with <code>hypha evaluate --samples FOLDER</code> on the same test chunks and floors as the model ");
        h.Append("(another generator's output, or <code>hypha baseline</code>'s flips and copies of training chunks). Metrics that need a model (reconstructions, likelihood) have no value for a folder.</p>");
        var names = new List<string>();
        if (c.Evaluation is { } model) names.AddRange(model.Metrics.Select(m => m.Name));
        foreach (var f in folders) names.AddRange(f.Metrics.Select(m => m.Name));
        names = names.Distinct().ToList();
        h.Append("<table id=\"samples-folders-table\"><thead><tr><th>metric</th><th>model</th>");
        foreach (var f in folders) h.Append($"<th>{E(Label(f))}</th>");
        h.Append("<th>floor (real vs real)</th><th>better</th></tr></thead><tbody>");
        foreach (var name in names)
        {
            var mine = c.Evaluation?.Metrics.FirstOrDefault(m => m.Name == name);
            var any = mine ?? folders.SelectMany(f => f.Metrics).First(m => m.Name == name);
            var e = MetricGuide.For(name, any.HigherIsBetter);
            h.Append($"<tr class=\"samples-folder-row\" data-metric=\"{E(name)}\"><td><code>{E(name)}</code></td><td class=\"num\">{(mine is null ? "&ndash;" : F(mine.Value))}</td>");
            foreach (var f in folders)
            {
                var m = f.Metrics.FirstOrDefault(x => x.Name == name);
                h.Append($"<td class=\"num\">{(m is null ? "&ndash;" : F(m.Value))}</td>");
            }
            var floor = any.Floor;
            h.Append($"<td class=\"num\">{(floor is { } fl ? F(fl) : "&ndash;")}</td><td>{E(e.Better)}</td></tr>");
        }
        h.Append("</tbody></table><ul class=\"sub\">");
        foreach (var f in folders)
        {
            var ctx = f.Context;
            h.Append($"<li><strong>{E(Label(f))}</strong>: {E(ctx.GetValueOrDefault("samples_folder", ""))}, {E(ctx.GetValueOrDefault("samples_files", "?"))} files ({E(ctx.GetValueOrDefault("samples", "?"))} images");
            if (ctx.TryGetValue("resized", out var rs) && rs != "0") h.Append($", {E(rs)} resized by area");
            if (ctx.GetValueOrDefault("normalize_like_run") == "true") h.Append(", normalized like the run");
            h.Append($"), SHA-256 {E(ctx.GetValueOrDefault("samples_sha256", "?")[..Math.Min(12, ctx.GetValueOrDefault("samples_sha256", "?").Length)])}&hellip;, evaluated {E(f.Timestamp.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture))} UTC, seed {f.Seed}</li>");
        }
        h.Append("</ul></section>\n");
    }

    static string E(string s) => WebUtility.HtmlEncode(s);
    static string F(double v) => double.IsNaN(v) ? "NaN" : v.ToString("G4", CultureInfo.InvariantCulture);
}
