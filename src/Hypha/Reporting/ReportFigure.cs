namespace Hypha.Reporting;

/// <summary>A picture on the report page.</summary>
/// <param name="Title">Heading above it.</param>
/// <param name="Caption">One or two sentences saying how to read it.</param>
/// <param name="Png">The PNG bytes (embedded as a data URI).</param>
/// <param name="DisplayWidth">Width in CSS pixels (small chunk grids are enlarged without smoothing); null: natural size, at most the page width.</param>
public sealed record ReportFigure(string Title, string Caption, byte[] Png, int? DisplayWidth = null);
