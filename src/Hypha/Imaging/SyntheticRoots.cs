using OpenCvSharp;

namespace Hypha.Imaging;

/// <summary>
/// The built-in example for <c>hypha demo</c> when no images are given: procedurally drawn brightfield images of
/// ink-stained roots (dark bands with cell rows) carrying fungal hyphae, arbuscule clusters and vesicles, on a
/// bright, slightly uneven background. It is synthetic, labelled so in file names and outputs, and only meant to
/// let the pipeline run anywhere; real results need real images.
/// </summary>
public static class SyntheticRoots
{
    /// <summary>Writes <paramref name="count"/> PNGs named <c>SYNTHETIC-example-roots-N.png</c> and returns their paths.</summary>
    /// <param name="width">Image width; default 1024.</param>
    /// <param name="height">Image height; default 768.</param>
    public static IReadOnlyList<string> Write(string folder, int count = 3, long seed = 0, int width = 1024, int height = 768)
    {
        Directory.CreateDirectory(folder);
        var paths = new List<string>();
        for (var i = 0; i < count; i++)
        {
            using var img = Draw(unchecked(SeedFold.ToInt32(seed) * 101 + i), width, height);
            var path = Path.Combine(folder, $"SYNTHETIC-example-roots-{i}.png");
            Cv2.ImWrite(path, img);
            paths.Add(path);
        }
        return paths;
    }

    /// <summary>One 8-bit gray image.</summary>
    public static Mat Draw(int seed, int width, int height)
    {
        var rng = new Random(seed);
        // Bright, uneven background (illumination falls off towards the corners).
        var cx = width * (0.3 + 0.4 * rng.NextDouble());
        var cy = height * (0.3 + 0.4 * rng.NextDouble());
        var diag = Math.Sqrt(width * width + height * height);
        var background = new float[width * height];
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
        {
            var d = Math.Sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy)) / diag;
            background[y * width + x] = (float)(0.86 - 0.12 * d * d);
        }
        var canvas = new Mat(height, width, MatType.CV_32FC1);
        System.Runtime.InteropServices.Marshal.Copy(background, 0, canvas.Data, background.Length);

        int roots = 2 + rng.Next(2);
        for (var r = 0; r < roots; r++) DrawRoot(canvas, rng, width, height);

        // Out-of-focus debris on the slide.
        for (var k = 0; k < 25; k++)
            Cv2.Circle(canvas, new Point(rng.Next(width), rng.Next(height)), 2 + rng.Next(5), Scalar.All(0.55 + 0.2 * rng.NextDouble()), -1, LineTypes.AntiAlias);

        Cv2.GaussianBlur(canvas, canvas, new Size(0, 0), 1.2);
        using var noise = new Mat(height, width, MatType.CV_32FC1);
        Cv2.Randn(noise, Scalar.All(0), Scalar.All(0.025));
        Cv2.Add(canvas, noise, canvas);
        var result = new Mat();
        canvas.ConvertTo(result, MatType.CV_8UC1, 255);
        canvas.Dispose();
        return result;
    }

    static void DrawRoot(Mat canvas, Random rng, int width, int height)
    {
        // A root: a smooth curve crossing the image, drawn as a thick band with a darker stele and cell rows.
        bool horizontal = rng.NextDouble() < 0.6;
        var pts = new List<Point2d>();
        double a = rng.NextDouble() * (horizontal ? height : width);
        double slope = (rng.NextDouble() - 0.5) * 0.6, wobble = 20 + 40 * rng.NextDouble(), phase = rng.NextDouble() * 6;
        int length = horizontal ? width : height;
        for (var t = -40; t <= length + 40; t += 8)
        {
            double o = a + slope * t + wobble * Math.Sin(t / 180.0 + phase);
            pts.Add(horizontal ? new Point2d(t, o) : new Point2d(o, t));
        }
        int thickness = 70 + rng.Next(60);
        var poly = pts.Select(p => new Point((int)p.X, (int)p.Y)).ToArray();
        Cv2.Polylines(canvas, [poly], false, Scalar.All(0.62), thickness, LineTypes.AntiAlias);
        Cv2.Polylines(canvas, [poly], false, Scalar.All(0.50), thickness / 3, LineTypes.AntiAlias);

        // Cell rows: thin lines parallel to the axis, and cross walls every ~30 px.
        for (var row = -2; row <= 2; row++)
        {
            var offset = row * thickness / 6.0;
            var line = Offset(pts, offset).Select(p => new Point((int)p.X, (int)p.Y)).ToArray();
            Cv2.Polylines(canvas, [line], false, Scalar.All(0.45), 1, LineTypes.AntiAlias);
        }
        for (var i = 1; i < pts.Count - 1; i += 4)
        {
            var (nx, ny) = Normal(pts, i);
            var half = thickness / 2.0 - 4;
            var p = pts[i];
            Cv2.Line(canvas, new Point((int)(p.X - nx * half), (int)(p.Y - ny * half)), new Point((int)(p.X + nx * half), (int)(p.Y + ny * half)),
                Scalar.All(0.52), 1, LineTypes.AntiAlias);
        }

        // Fungal hyphae: long, thin, dark, wandering lines along and across the root.
        for (var h = 0; h < 4 + rng.Next(5); h++)
        {
            var start = rng.Next(pts.Count);
            var across = (rng.NextDouble() - 0.5) * thickness * 0.8;
            var hypha = new List<Point>();
            double drift = 0;
            for (var i = start; i < Math.Min(pts.Count, start + 20 + rng.Next(40)); i++)
            {
                drift += (rng.NextDouble() - 0.5) * 6;
                var (nx, ny) = Normal(pts, i);
                hypha.Add(new Point((int)(pts[i].X + nx * (across + drift)), (int)(pts[i].Y + ny * (across + drift))));
            }
            if (hypha.Count > 1) Cv2.Polylines(canvas, [hypha.ToArray()], false, Scalar.All(0.18), 2, LineTypes.AntiAlias);
        }

        // Arbuscules: clusters of small dark dots inside cortex cells; vesicles: dark ovals.
        for (var c = 0; c < 6 + rng.Next(8); c++)
        {
            var i = rng.Next(1, pts.Count - 1);
            var (nx, ny) = Normal(pts, i);
            var off = (rng.NextDouble() - 0.5) * thickness * 0.7;
            var center = new Point2d(pts[i].X + nx * off, pts[i].Y + ny * off);
            for (var d = 0; d < 30; d++)
                Cv2.Circle(canvas, new Point((int)(center.X + rng.NextDouble() * 18 - 9), (int)(center.Y + rng.NextDouble() * 18 - 9)),
                    1 + rng.Next(2), Scalar.All(0.12 + 0.15 * rng.NextDouble()), -1, LineTypes.AntiAlias);
        }
        for (var v = 0; v < 2 + rng.Next(4); v++)
        {
            var i = rng.Next(1, pts.Count - 1);
            var (nx, ny) = Normal(pts, i);
            var off = (rng.NextDouble() - 0.5) * thickness * 0.6;
            var angle = Math.Atan2(-nx, ny) * 180 / Math.PI;
            Cv2.Ellipse(canvas, new Point((int)(pts[i].X + nx * off), (int)(pts[i].Y + ny * off)), new Size(9 + rng.Next(6), 5 + rng.Next(4)),
                angle, 0, 360, Scalar.All(0.15), -1, LineTypes.AntiAlias);
        }
    }

    static (double Nx, double Ny) Normal(List<Point2d> pts, int i)
    {
        var d = pts[Math.Min(i + 1, pts.Count - 1)] - pts[Math.Max(i - 1, 0)];
        var len = Math.Sqrt(d.X * d.X + d.Y * d.Y) + 1e-9;
        return (-d.Y / len, d.X / len);
    }

    static IEnumerable<Point2d> Offset(List<Point2d> pts, double offset) =>
        pts.Select((p, i) => { var (nx, ny) = Normal(pts, i); return new Point2d(p.X + nx * offset, p.Y + ny * offset); });
}
