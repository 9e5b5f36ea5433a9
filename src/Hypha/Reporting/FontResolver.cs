namespace Hypha.Reporting;

/// <summary>
/// ScottPlot draws no text, silently, when its default font is missing. Pick a font family that is installed
/// (DejaVu Sans on Debian's fonts-dejavu-core, then Liberation, Noto); <c>hypha doctor</c> warns when none is.
/// </summary>
public static class FontResolver
{
    static readonly string[] Candidates = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "FreeSans", "Arial", "Helvetica"];

    public static string Pick()
    {
        foreach (var name in Candidates)
        {
            using var face = SkiaSharp.SKTypeface.FromFamilyName(name);
            if (face is not null && face.FamilyName.Equals(name, StringComparison.OrdinalIgnoreCase)) return name;
        }
        return ScottPlot.Fonts.Default;
    }

    /// <summary>True when a font with real glyphs is available for plot text.</summary>
    public static bool HasFonts()
    {
        var name = Pick();
        return Candidates.Contains(name);
    }
}
