using System.Globalization;
using System.Net;
using System.Text;
using Hypha.Evaluation;

namespace Hypha.Reporting;

/// <summary>
/// Renders a <see cref="ReportContent"/> as one self-contained HTML page: images embedded as data URIs, styles
/// inline, no scripts and no external resources, so the file can be mailed or archived and opens anywhere.
/// Sections (element ids): summary, config, dataset, curves, reconstructions, samples, whole-images, interpolations, metrics
/// (table id metrics-table, one row of class metric-row per metric), samples-folders (only when a samples folder was
/// evaluated; table id samples-folders-table, see <see cref="SamplesFolderSection"/>), memorization.
/// </summary>
public static class ReportPage
{
    const string Style = """
        body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; max-width: 1100px; margin: 24px auto; padding: 0 16px; color: #1d2329; background: #fff; line-height: 1.45; }
        h1 { font-size: 26px; margin-bottom: 4px; } h2 { font-size: 20px; margin-top: 36px; border-bottom: 2px solid #d6dde3; padding-bottom: 4px; }
        .sub { color: #5a6670; margin-top: 0; } .note { background: #f3f6f8; border-left: 4px solid #7a9cb8; padding: 8px 12px; }
        .warn { background: #fff6e5; border-left: 4px solid #d89a2b; padding: 8px 12px; }
        table { border-collapse: collapse; margin: 8px 0; font-size: 14px; } th, td { border: 1px solid #d6dde3; padding: 4px 8px; text-align: left; vertical-align: top; }
        th { background: #eef2f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        img { display: block; max-width: 100%; } img.px { image-rendering: pixelated; }
        figure { margin: 12px 0 20px 0; } figcaption { color: #39434c; font-size: 14px; margin-top: 6px; max-width: 900px; }
        .curves { display: flex; flex-wrap: wrap; gap: 12px; } .curves figure { flex: 1 1 340px; margin: 0; }
        .pairs { display: flex; flex-wrap: wrap; gap: 14px; } .pair { border: 1px solid #d6dde3; padding: 6px; font-size: 13px; text-align: center; }
        .pair .imgs { display: flex; gap: 4px; } .pair .imgs div { font-size: 11px; color: #5a6670; }
        pre { background: #f6f8fa; padding: 10px; overflow-x: auto; font-size: 12px; }
        .better { color: #2f6f3e; } .worse { color: #9a3b22; }
        """;

    /// <summary>The HTML page.</summary>
    public static string Render(ReportContent c)
    {
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        h.Append($"<title>Hypha report: {E(c.RunName)}</title><style>{Style}</style></head><body>\n");
        h.Append($"<h1>Hypha run report: {E(c.RunName)}</h1>");
        h.Append($"<p class=\"sub\">{E(c.RunPath)} &middot; page made {E(c.Generated.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture))} UTC");
        if (c.CheckpointSummary is not null) h.Append($" &middot; {E(c.CheckpointSummary)}");
        h.Append("</p>\n");
        Summary(h, c);
        Config(h, c);
        Dataset(h, c);
        Curves(h, c);
        Figure(h, "reconstructions", "Reconstructions", c.Reconstructions, c.Lacks.GetValueOrDefault("reconstructions", "No checkpoint, so no reconstructions."));
        Figure(h, "samples", "Samples", c.Samples, c.Lacks.GetValueOrDefault("samples", "No checkpoint, so no samples."));
        Figure(h, "sample-history", "Samples through training", c.SampleHistory,
            "Training kept fewer than two per-epoch sample grids (grids/history/), so there is nothing to compare yet " +
            "(a model whose samples need a prior fitted after training, the autoencoder_kl, draws none while it trains).");
        if (c.Trajectory is not null) Figure(h, "trajectory", "Denoising trajectory", c.Trajectory, "");
        Figure(h, "whole-images", "Whole images", c.WholeImages,
            "No whole images yet: hypha synthesize --run RUN --size WIDTHxHEIGHT --out FOLDER makes them, and this page then shows them beside the real images.");
        Figure(h, "interpolations", "Latent interpolations", c.Interpolations, c.Lacks.GetValueOrDefault("interpolations", "No checkpoint, so no interpolations."));
        Metrics(h, c);
        SamplesFolderSection.Render(h, c);
        Memorization(h, c);
        h.Append("<p class=\"sub\">Made by <code>hypha report</code>. Metric definitions: docs/metrics.md in the Hypha repository.</p>\n</body></html>\n");
        return h.ToString();
    }

    static void Summary(StringBuilder h, ReportContent c)
    {
        h.Append("<section id=\"summary\"><h2>How to read this page</h2><p>");
        h.Append($"Hypha trained a generative model ({E(c.ModelSummary)}) on small square pieces (<em>chunks</em>) cut from the microscopy images below, ");
        h.Append("to make new, synthetic chunks (<em>samples</em>) that look like them. ");
        if (c.Reconstructions is not null)
            h.Append("This model also compresses a chunk into a short code and rebuilds it (<em>reconstruction</em>). ");
        h.Append("Every number in the metrics table sits beside its <strong>floor</strong>: the same measurement between two separate sets of <em>real</em> test chunks, ");
        h.Append("so it shows what &ldquo;as good as real data&rdquo; looks like here. A model can approach its floor but should not be expected to beat it on the sample metrics.</p></section>\n");
    }

    static void Config(StringBuilder h, ReportContent c)
    {
        var cfg = c.Config;
        h.Append("<section id=\"config\"><h2>Configuration</h2><table>");
        Row(h, "images", string.Join(", ", cfg.Data.Images));
        Row(h, "chunks", $"{cfg.Data.Chunk} x {cfg.Data.Chunk} px at stride {cfg.Data.Stride}, kept if mean in [{F(cfg.Data.MinMean)}, {F(cfg.Data.MaxMean)}]");
        Row(h, "normalization", Name(cfg.Data.Normalize.ToString()));
        Row(h, "channels", Name(cfg.Data.Channels.ToString()));
        Row(h, "split", Name(cfg.Data.Split.ToString()));
        Row(h, "model", $"{cfg.Model.Kind}: {cfg.Model.Descriptor.Architecture(cfg.Model)}");
        Row(h, "training", $"{cfg.Train.Epochs} epochs{(cfg.Train.EpochSize > 0 ? $" of {cfg.Train.EpochSize:N0} chunks" : "")}, batch {cfg.Train.Batch}, learning rate {F(cfg.Train.Lr)}, augmentation {Name(cfg.Train.Augment.ToString())}, seed {cfg.Train.Seed}");
        Row(h, "preset", cfg.Preset);
        h.Append("</table><details><summary>config.json</summary><pre>").Append(E(c.ConfigJson)).Append("</pre></details></section>\n");
    }

    static void Dataset(StringBuilder h, ReportContent c)
    {
        h.Append("<section id=\"dataset\"><h2>Dataset</h2>");
        if (c.Dataset is not { } d)
        {
            h.Append("<p class=\"note\">dataset.json is missing from the run folder.</p></section>\n");
            return;
        }
        h.Append($"<p>{d.Train:N0} training, {d.Validation:N0} validation and {d.Test:N0} test chunks. Split: {E(d.SplitMode)} ({E(d.SplitReason)}). ");
        h.Append("Test chunks are never trained on; every metric below uses them.</p><table><tr><th>image</th><th>size</th><th>cut</th><th>too dark</th><th>too bright</th><th>on a split boundary</th><th>train</th><th>validation</th><th>test</th></tr>");
        foreach (var i in d.Images)
            h.Append($"<tr><td>{E(i.Label)}</td><td class=\"num\">{i.Width} x {i.Height}</td><td class=\"num\">{i.Cut:N0}</td><td class=\"num\">{i.TooDark:N0}</td><td class=\"num\">{i.TooBright:N0}</td><td class=\"num\">{i.OnBoundary:N0}</td><td class=\"num\">{i.Train:N0}</td><td class=\"num\">{i.Validation:N0}</td><td class=\"num\">{i.Test:N0}</td></tr>");
        h.Append("</table>");
        if (d.Skipped.Count > 0)
            h.Append($"<p class=\"warn\">Skipped files: {E(string.Join("; ", d.Skipped.Select(s => $"{s.Path}: {s.Problem}")))}</p>");
        h.Append("</section>\n");
    }

    static void Curves(StringBuilder h, ReportContent c)
    {
        h.Append("<section id=\"curves\"><h2>Training curves</h2><p>The model's loss terms on training and validation chunks against training images seen; ");
        h.Append("losses should fall and level off. A validation curve far above the training curve means overfitting.</p>");
        if (c.Curves.Count == 0) h.Append("<p class=\"note\">No curves: metrics.csv is missing or empty.</p>");
        h.Append("<div class=\"curves\">");
        foreach (var f in c.Curves)
            h.Append($"<figure><img src=\"{Uri(f.Png)}\" alt=\"{E(f.Title)}\"><figcaption><strong>{E(f.Title)}.</strong> {E(f.Caption)}</figcaption></figure>");
        h.Append("</div></section>\n");
    }

    static void Figure(StringBuilder h, string id, string title, ReportFigure? f, string missing)
    {
        h.Append($"<section id=\"{id}\"><h2>{E(title)}</h2>");
        if (f is null) h.Append($"<p class=\"note\">{E(missing)}</p>");
        else
        {
            var width = f.DisplayWidth is { } w ? $" style=\"width:{w}px\"" : "";
            h.Append($"<figure><img class=\"px\" src=\"{Uri(f.Png)}\" alt=\"{E(f.Title)}\"{width}><figcaption>{E(f.Caption)}</figcaption></figure>");
        }
        h.Append("</section>\n");
    }

    static void Metrics(StringBuilder h, ReportContent c)
    {
        h.Append("<section id=\"metrics\"><h2>Metrics</h2>");
        if (c.Evaluation is not { } r)
        {
            h.Append($"<p class=\"note\">This run has not been evaluated yet. Run <code>hypha evaluate --run {E(c.RunPath)}</code> (a few minutes on a CPU), then <code>hypha report --run {E(c.RunPath)}</code> again.</p></section>\n");
            return;
        }
        var ctx = r.Context;
        h.Append($"<p>Evaluated {E(r.Timestamp.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture))} UTC");
        if (ctx.TryGetValue("epoch", out var ep)) h.Append($", checkpoint at epoch {E(ep)}");
        if (ctx.TryGetValue("images_seen", out var seen) && long.TryParse(seen, CultureInfo.InvariantCulture, out var s)) h.Append($" ({s:N0} training images seen)");
        if (ctx.TryGetValue("test_used", out var tu)) h.Append($"; {E(tu)} test chunks");
        if (ctx.TryGetValue("samples", out var sc)) h.Append($", {E(sc)} samples");
        if (ctx.TryGetValue("train_used", out var tr)) h.Append($", {E(tr)} training chunks for the memorization check");
        h.Append($"; seed {r.Seed}.");
        if (ctx.TryGetValue("sampler", out var sampler) && sampler != "default") h.Append($" Sampler: {E(sampler)}.");
        h.Append("</p>");
        if (c.EvaluationNote is not null) h.Append($"<p class=\"warn\">{E(c.EvaluationNote)}</p>");
        h.Append("<table id=\"metrics-table\"><thead><tr><th>metric</th><th>model</th><th>floor (real vs real)</th><th>better</th><th>what it means</th></tr></thead><tbody>");
        foreach (var m in r.Metrics)
        {
            var e = MetricGuide.For(m.Name, m.HigherIsBetter);
            h.Append($"<tr class=\"metric-row\" data-metric=\"{E(m.Name)}\"><td><strong>{E(e.Title)}</strong><br><code>{E(m.Name)}</code> v{m.Version}</td>");
            h.Append($"<td class=\"num\">{F(m.Value)}</td><td class=\"num\">{(m.Floor is { } fl ? F(fl) : "&ndash;")}</td><td>{E(e.Better)}</td><td>{E(e.Measures)}</td></tr>");
        }
        h.Append("</tbody></table>");
        if (r.Skipped.Count > 0)
            h.Append($"<p class=\"note\">Not computed: {E(string.Join("; ", r.Skipped.Select(kv => $"{kv.Key} ({kv.Value})")))}.</p>");
        if (r.Metrics.FirstOrDefault(m => m.Name == IwaeMetric.Key) is { } iw && iw.Parameters.TryGetValue("sigma", out var sigma))
            h.Append($"<p class=\"sub\">Likelihood: importance-weighted bound with K = {F(iw.Parameters.GetValueOrDefault("k"))}, decoder a Gaussian of fixed standard deviation {F(sigma)} (continuous density on [0, 1] intensities, so values can be negative and are not comparable with 8-bit bits/dim in the literature).</p>");
        h.Append("<p class=\"sub\">The ResNet-18 metrics use ImageNet ResNet-18 features, not Inception: they are not FID and not comparable with published FID/KID values.</p></section>\n");
    }

    static void Memorization(StringBuilder h, ReportContent c)
    {
        h.Append("<section id=\"memorization\"><h2>Memorization check</h2>");
        h.Append("<p>Does the model copy its training chunks? For each sample we find the closest training chunk, pixel by pixel. ");
        h.Append("A sample counts as suspiciously close when it is nearer to the training data than 95% of real test chunks (which the model never saw) are. ");
        var memo = c.Evaluation?.Metrics.FirstOrDefault(m => m.Name == MemorizationMetric.Key);
        if (memo is null)
        {
            h.Append("</p><p class=\"note\">Not evaluated yet: <code>hypha evaluate</code> with the memorization metric (the default) computes it.</p></section>\n");
            return;
        }
        var high = memo.Floor is { } f && memo.Value > 2 * f + 0.02;
        var verdict = high ? "<span class=\"worse\">well above the real-data rate: look at the pairs below for copies</span>"
            : "<span class=\"better\">about the rate of real unseen chunks or below: no sign of copying</span>";
        h.Append($"Here {Percent(memo.Value)} of samples are that close, against {(memo.Floor is { } fl ? Percent(fl) : "?")} of real unseen chunks: {verdict}.</p>");
        if (high)
            h.Append("<p class=\"note\">A high rate is not proof of copying: blurry samples of plain, even background are close in pixels to the many background chunks in the training set. " +
                     "Copies look like the same root or hyphae in both images of a pair; smooth, featureless pairs are blur, not memorization.</p>");
        if (c.ClosestPairs.Count == 0) h.Append("<p class=\"note\">The pair images of this evaluation are missing (RUN/evaluation/); run hypha evaluate again to see them.</p>");
        else
        {
            h.Append("<p>The samples closest to a training chunk, closest first (distance: root-mean-square intensity difference on a 0&ndash;1 scale; identical chunks give 0):</p><div class=\"pairs\">");
            foreach (var p in c.ClosestPairs)
                h.Append($"<div class=\"pair\"><div class=\"imgs\"><div><img class=\"px\" src=\"{Uri(p.Sample)}\" alt=\"sample\" style=\"width:128px\">sample</div>" +
                         $"<div><img class=\"px\" src=\"{Uri(p.Train)}\" alt=\"nearest training chunk\" style=\"width:128px\">training</div></div>distance {F(p.Distance)}</div>");
            h.Append("</div>");
        }
        h.Append("</section>\n");
    }

    static void Row(StringBuilder h, string key, string value) => h.Append($"<tr><th>{E(key)}</th><td>{E(value)}</td></tr>");

    static string Name(string enumName) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(enumName);

    static string Uri(byte[] png) => "data:image/png;base64," + Convert.ToBase64String(png);

    static string E(string s) => WebUtility.HtmlEncode(s);

    static string Percent(double fraction) => (100 * fraction).ToString("0.#", CultureInfo.InvariantCulture) + "%";

    static string F(double v) => double.IsNaN(v) ? "NaN" : v.ToString("G4", CultureInfo.InvariantCulture);
}
