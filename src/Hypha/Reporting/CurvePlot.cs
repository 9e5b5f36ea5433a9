using ScottPlot;

namespace Hypha.Reporting;

/// <summary>One line of a curve plot.</summary>
public sealed record Series(string Label, IReadOnlyList<double> X, IReadOnlyList<double> Y);

/// <summary>Loss and KL curves as PNG (ScottPlot). Vertical lines can mark events such as progressive-VAE stage changes.</summary>
public static class CurvePlot
{
    static CurvePlot() => Fonts.Default = FontResolver.Pick();

    /// <param name="logY">Log-scale y axis (the summed MSE falls over orders of magnitude); default false.</param>
    public static byte[] Render(string title, string xLabel, string yLabel, IEnumerable<Series> series,
        IEnumerable<(double X, string Label)>? markers = null, bool logY = false, int width = 900, int height = 500)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(logY ? yLabel + " (log10)" : yLabel);
        foreach (var s in series)
        {
            if (s.X.Count == 0) continue;
            var ys = s.Y.Select(v => logY ? Math.Log10(Math.Max(v, 1e-12)) : v).ToArray();
            var line = plot.Add.Scatter(s.X.ToArray(), ys);
            line.LegendText = s.Label;
            line.MarkerSize = s.X.Count > 60 ? 0 : 4;
        }
        foreach (var (x, label) in markers ?? [])
        {
            var v = plot.Add.VerticalLine(x);
            v.LinePattern = LinePattern.Dashed;
            v.Text = label;
        }
        plot.ShowLegend(Alignment.UpperRight);
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }
}
