using static TorchSharp.torch;

namespace Hypha.Sampling;

/// <summary>How a window's pixels weigh in the blend of overlapping windows.</summary>
public enum WindowWeighting
{
    /// <summary>Every pixel of a window weighs 1 (MultiDiffusion's panorama setting, Bar-Tal et al. 2023): each pixel
    /// takes the plain mean of the windows that cover it.</summary>
    Uniform,

    /// <summary>A separable tent, highest at the window's centre and falling linearly to its edges (never to 0):
    /// feathered blending of independently made tiles.</summary>
    Feather,
}

/// <summary>
/// Square windows of <see cref="Window"/> pixels laid over a <see cref="Width"/> x <see cref="Height"/> image every
/// <see cref="Stride"/> pixels along each axis, the last window of a row or column moved back to end on the image's
/// edge, so every pixel is covered. Windows are numbered row by row (<see cref="this[int]"/>). The blend of window
/// values is <c>sum_i w_i(p) v_i(p) / sum_i w_i(p)</c>: per pixel, the weights of the covering windows sum to 1.
/// </summary>
public sealed class WindowPlan
{
    /// <summary>Image width in pixels.</summary>
    public int Width { get; }

    /// <summary>Image height in pixels.</summary>
    public int Height { get; }

    /// <summary>Window side in pixels (the model's chunk).</summary>
    public int Window { get; }

    /// <summary>Pixels between window starts (the last one of a row or column may be closer to its neighbour).</summary>
    public int Stride { get; }

    /// <summary>Left edges of the windows of a row, ascending.</summary>
    public IReadOnlyList<int> Xs { get; }

    /// <summary>Top edges of the windows of a column, ascending.</summary>
    public IReadOnlyList<int> Ys { get; }

    /// <summary>Windows in all.</summary>
    public int Count => Xs.Count * Ys.Count;

    /// <summary>Pixels in the image.</summary>
    public long Pixels => (long)Width * Height;

    WindowPlan(int width, int height, int window, int stride)
    {
        (Width, Height, Window, Stride) = (width, height, window, stride);
        Xs = Positions(width, window, stride);
        Ys = Positions(height, window, stride);
    }

    /// <summary>Top-left corner of window <paramref name="i"/> (row by row).</summary>
    public (int X, int Y) this[int i] => (Xs[i % Xs.Count], Ys[i / Xs.Count]);

    /// <summary>
    /// The plan for a <paramref name="width"/> x <paramref name="height"/> image in windows of <paramref name="window"/>
    /// pixels every <paramref name="stride"/>; configuration errors (naming <c>--size</c> or <c>--stride</c>) for a side
    /// smaller than one window, a stride outside 1..window, or more than 2^28 pixels (the largest image Hypha reads).
    /// </summary>
    public static WindowPlan Create(int width, int height, int window, int stride)
    {
        if (window < 1) throw new ArgumentOutOfRangeException(nameof(window));
        if (width < window || height < window)
            throw HyphaException.Config($"--size {width}x{height} is smaller than one chunk of the run ({window}x{window}): each side must be at least {window}");
        if ((long)width * height > Imaging.ImageReader.MaxPixels)
            throw HyphaException.Config($"--size {width}x{height} has {(long)width * height:N0} pixels, more than the {Imaging.ImageReader.MaxPixels:N0} (2^28) Hypha reads or writes in one image");
        if (stride < 1 || stride > window)
            throw HyphaException.Config($"--stride must be in 1..{window} (the chunk; a larger one leaves pixels no window covers), got {stride}");
        return new WindowPlan(width, height, window, stride);
    }

    /// <summary>Window starts along an axis: 0, stride, 2 stride, ... while a window fits, then one ending on the edge.</summary>
    public static IReadOnlyList<int> Positions(int length, int window, int stride)
    {
        var list = new List<int>();
        for (var p = 0; p + window <= length; p += stride) list.Add(p);
        if (list[^1] + window < length) list.Add(length - window);
        return list;
    }

    /// <summary>The weights of one window's pixels, [Window, Window] float32 on the CPU, all positive.</summary>
    public Tensor Weights(WindowWeighting weighting)
    {
        if (weighting == WindowWeighting.Uniform) return ones([Window, Window], ScalarType.Float32);
        using var scope = NewDisposeScope();
        // Distance to the nearer edge plus one, over half the window: 1/half at the edges, 1 at the centre.
        var u = arange(Window, ScalarType.Float32);
        var half = (Window + 1) / 2f;
        var tent = minimum(u + 1, Window - u) / half;
        return outer(tent, tent).MoveToOuterDisposeScope();
    }

    /// <summary>The sum of the covering windows' weights at each pixel, [Height, Width] float32 on the CPU; positive
    /// everywhere because the plan covers every pixel.</summary>
    public Tensor Coverage(WindowWeighting weighting)
    {
        using var scope = NewDisposeScope();
        var w = Weights(weighting);
        var sum = zeros([Height, Width], ScalarType.Float32);
        for (var i = 0; i < Count; i++)
        {
            var (x, y) = this[i];
            sum.narrow(0, y, Window).narrow(1, x, Window).add_(w);
        }
        return sum.MoveToOuterDisposeScope();
    }

    /// <summary>Columns <c>x</c> (1..Width-1) where a window edge falls between pixel columns x - 1 and x; the same for rows with <see cref="BorderRows"/>.</summary>
    public IReadOnlyList<int> BorderColumns => Borders(Xs, Width);

    /// <summary>Rows <c>y</c> (1..Height-1) where a window edge falls between pixel rows y - 1 and y.</summary>
    public IReadOnlyList<int> BorderRows => Borders(Ys, Height);

    IReadOnlyList<int> Borders(IReadOnlyList<int> starts, int length) =>
        starts.SelectMany(p => new[] { p, p + Window }).Where(b => b > 0 && b < length).Distinct().Order().ToList();

    public override string ToString() =>
        $"{Count:N0} windows of {Window}x{Window} ({Xs.Count} x {Ys.Count}, stride {Stride}) over {Width}x{Height}";
}
