using System.Text.RegularExpressions;
using Hypha.Evaluation;
using Hypha.Reporting;
using Hypha.Runs;
using OpenCvSharp;

namespace Hypha.Tests.Reporting;

[Collection(EvaluatedRunCollection.Name)]
public class ReportTests(EvaluatedRun fixture)
{
    static readonly string[] Sections = ["summary", "config", "dataset", "curves", "reconstructions", "samples", "sample-history", "interpolations", "metrics", "memorization"];

    /// <summary>3 curves, reconstructions, samples, samples through training (the fixture trains several epochs),
    /// interpolations, and two images per closest pair.</summary>
    int ExpectedImages => 7 + 2 * fixture.Evaluation.Record.Metrics.Single(m => m.Name == "memorization").ClosestPairs!.Count;

    [Fact]
    public void Report_is_self_contained_and_has_every_section_the_metrics_table_and_the_pairs()
    {
        var html = File.ReadAllText(fixture.ReportPath);
        Assert.Equal(Path.Combine(fixture.Run.Root, "report.html"), fixture.ReportPath);
        foreach (var id in Sections) Assert.Contains($"<section id=\"{id}\">", html);
        Assert.Equal(12, Regex.Matches(html, "<tr class=\"metric-row\"").Count);
        foreach (var m in fixture.Evaluation.Record.Metrics) Assert.Contains($"data-metric=\"{m.Name}\"", html);
        Assert.Equal(16, Regex.Matches(html, "<div class=\"pair\">").Count);
        var srcs = Regex.Matches(html, "<img [^>]*src=\"([^\"]*)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(ExpectedImages, srcs.Count);
        Assert.All(srcs, s => Assert.StartsWith("data:image/png;base64,", s));
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("<link", html);
        Assert.DoesNotContain("url(", html);
        Assert.Contains("floor (real vs real)", html);
        Assert.Contains("resnet_vae", html);                  // configuration
        Assert.Contains("N_benthamiana_roots", html);         // dataset summary
    }

    [Fact]
    public void Report_without_an_evaluation_says_how_to_get_one()
    {
        var png = File.ReadAllBytes(Path.Combine(fixture.Run.PlotsDir, "loss.png"));
        var content = new ReportContent
        {
            RunName = "r", RunPath = "/runs/r", Config = fixture.Run.ReadConfig(), ConfigJson = "{}",
            Curves = [new ReportFigure("Loss", "falls", png)],
            Samples = new ReportFigure("Samples", "drawn", png, 640),
        };
        var html = ReportPage.Render(content);
        Assert.Contains("hypha evaluate --run /runs/r", html);
        Assert.DoesNotContain("metrics-table", html);
        foreach (var id in Sections) Assert.Contains($"<section id=\"{id}\">", html);
        Assert.Contains("dataset.json is missing", html);
    }

    [SkippableFact]
    public void Report_renders_in_headless_chromium_with_its_images_and_metrics_table()
    {
        var browser = Chromium.Require();
        var url = new Uri(fixture.ReportPath).AbsoluteUri;
        var dom = Chromium.Run(browser, url, ["--dump-dom"]);
        var imgs = Regex.Matches(dom, "<img [^>]*>").Select(m => m.Value).ToList();
        Assert.Equal(ExpectedImages, imgs.Count);
        Assert.All(imgs, i => Assert.Matches("src=\"data:image/png;base64,[A-Za-z0-9+/=]{100,}\"", i));
        Assert.Matches("<table id=\"metrics-table\">", dom);
        var rows = Regex.Matches(dom, "<tr class=\"metric-row\" data-metric=\"([a-z0-9_]+)\"").Select(m => m.Groups[1].Value);
        Assert.Equal(fixture.Evaluation.Record.Metrics.Select(m => m.Name), rows);

        using var tmp = new TempDir();
        var shot = tmp["page.png"];
        Chromium.Run(browser, url, [$"--screenshot={shot}", "--window-size=1200,3000", "--hide-scrollbars"]);
        using var image = Cv2.ImRead(shot, ImreadModes.Grayscale);
        Assert.Equal(1200, image.Width);
        Assert.Equal(3000, image.Height);
        Cv2.MeanStdDev(image, out var mean, out var std);
        Assert.True(std.Val0 > 20, $"the screenshot looks blank (mean {mean.Val0:F1}, std {std.Val0:F1})");
        // The grids are mid-gray images: a page that failed to load its images is almost all white text background.
        using var dark = new Mat();
        Cv2.Threshold(image, dark, 200, 255, ThresholdTypes.BinaryInv);
        Assert.True(Cv2.CountNonZero(dark) > 1200 * 3000 / 20, "less than 5% of the screenshot is non-white: images did not render");
    }
}
