using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Reporting;

/// <summary>Tiles images into one picture, as torchvision's make_grid.</summary>
public static class ImageGrid
{
    /// <summary>Tiles [N, C, H, W] into [C, rows*(H+pad)+pad, cols*(W+pad)+pad] with <paramref name="pad"/> pixels of <paramref name="padValue"/> between tiles.</summary>
    /// <param name="columns">Tiles per row; default 10.</param>
    /// <param name="pad">Gap in pixels; default 2.</param>
    /// <param name="padValue">Gap brightness in [0, 1]; default 1 (white).</param>
    public static Tensor Tile(Tensor images, int columns = 10, int pad = 2, double padValue = 1.0)
    {
        using var scope = NewDisposeScope();
        var x = images.detach().to(CPU).to_type(ScalarType.Float32);
        int n = (int)x.shape[0], c = (int)x.shape[1], h = (int)x.shape[2], w = (int)x.shape[3];
        columns = Math.Max(1, Math.Min(columns, n));
        int rows = (n + columns - 1) / columns;
        var grid = full([c, rows * (h + pad) + pad, columns * (w + pad) + pad], padValue);
        for (var i = 0; i < n; i++)
        {
            int r = i / columns, col = i % columns;
            grid[.., (r * (h + pad) + pad)..(r * (h + pad) + pad + h), (col * (w + pad) + pad)..(col * (w + pad) + pad + w)] = x[i];
        }
        return grid.MoveToOuterDisposeScope();
    }

    /// <summary>Two tiled sets side by side (e.g. originals left, reconstructions right) with a wider gap between them.</summary>
    public static Tensor SideBySide(Tensor left, Tensor right, int columns = 5, int gap = 8)
    {
        using var scope = NewDisposeScope();
        var a = Tile(left, columns);
        var b = Tile(right, columns);
        var sep = full([a.shape[0], a.shape[1], gap], 1.0f);
        return cat([a, sep, b], 2).MoveToOuterDisposeScope();
    }
}
