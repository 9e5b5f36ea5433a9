namespace Hypha.Imaging;

/// <summary>
/// One image plane as read from disk: native value scale (0..255, 0..65535 or float), channel-first floats.
/// A multi-page TIFF yields one <see cref="RawImage"/> per page.
/// </summary>
/// <param name="Source">The file it came from.</param>
/// <param name="Page">Page (or focal plane) index inside the file, 0 for single-page files.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Channels">1 (gray) or 3 (RGB, in that order).</param>
/// <param name="BitDepth">Bits per sample on disk (8, 16 or 32 for float).</param>
/// <param name="Pixels">Channel-first values, length Channels * Height * Width.</param>
public sealed record RawImage(string Source, int Page, int Width, int Height, int Channels, int BitDepth, float[] Pixels)
{
    /// <summary>A name that says which file and page this is, for messages and reports.</summary>
    public string Label => Page == 0 ? System.IO.Path.GetFileName(Source) : $"{System.IO.Path.GetFileName(Source)}[page {Page}]";
}
