using System.Diagnostics;
using Hypha.Imaging;
using OpenCvSharp;
using Xunit.Abstractions;

namespace Hypha.Tests.Faults;

/// <summary>
/// A bounded fuzz test: mutated bytes of real images (flipped bits, overwritten runs, cuts, splices, duplicated
/// spans) go through <see cref="ImageReader"/>. Each read must end within a timeout with either images or a
/// <see cref="HyphaException"/> with <see cref="ExitCode.BadInput"/> naming the file: no other exception, no crash,
/// no hang, no runaway memory.
/// </summary>
public sealed class FuzzTests(ITestOutputHelper log) : IDisposable
{
    readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    const int PerFormat = 150;
    static readonly TimeSpan ReadLimit = TimeSpan.FromSeconds(20);

    /// <summary>Small seed files cut from real images (so each read is fast), plus one real file as it is on disk.</summary>
    IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        using var cell = Cv2.ImRead(BadFiles.Png8, ImreadModes.Unchanged);
        using var cellCrop = new Mat(cell, new Rect(200, 200, 64, 48)).Clone();
        using var roots = Cv2.ImRead(BadFiles.Jpeg, ImreadModes.Unchanged);
        using var rootsCrop = new Mat(roots, new Rect(600, 500, 64, 48)).Clone();
        using var nuclei = Cv2.ImRead(BadFiles.Tiff16, ImreadModes.Unchanged);
        using var nucleiCrop = new Mat(nuclei, new Rect(300, 200, 64, 48)).Clone();
        yield return ("gray8.png", rootsCrop.ImEncode(".png"));
        yield return ("gray.png", cellCrop.ImEncode(".png"));
        yield return ("rgb.jpg", rootsCrop.ImEncode(".jpg"));
        yield return ("gray16.tif", nucleiCrop.ImEncode(".tif"));
        yield return ("rgb.tif", rootsCrop.ImEncode(".tif"));
        yield return ("real.png", File.ReadAllBytes(BadFiles.Png8));
    }

    static byte[] Mutate(byte[] original, Random r)
    {
        var d = (byte[])original.Clone();
        var ops = r.Next(1, 4);
        for (var k = 0; k < ops; k++)
        {
            // Headers are where parsers go wrong: aim half of the mutations at the first 512 bytes.
            int Pos(int len) => r.Next(2) == 0 ? r.Next(Math.Min(512, len)) : r.Next(len);
            switch (r.Next(6))
            {
                case 0: // flip bits
                    for (var i = r.Next(1, 16); i > 0; i--) d[Pos(d.Length)] ^= (byte)(1 << r.Next(8));
                    break;
                case 1: // overwrite a run with an extreme value
                {
                    var at = Pos(d.Length);
                    var v = (byte)(r.Next(3) switch { 0 => 0x00, 1 => 0xFF, _ => r.Next(256) });
                    for (var i = at; i < Math.Min(d.Length, at + r.Next(1, 9)); i++) d[i] = v;
                    break;
                }
                case 2: // truncate
                    d = d[..Math.Max(1, r.Next(d.Length))];
                    break;
                case 3: // random bytes in a span
                {
                    var at = Pos(d.Length);
                    var span = d.AsSpan(at, Math.Min(d.Length - at, r.Next(1, 64)));
                    r.NextBytes(span);
                    break;
                }
                case 4: // duplicate a span (lengths and offsets now point elsewhere)
                {
                    var at = Pos(d.Length);
                    var len = Math.Min(d.Length - at, r.Next(1, 256));
                    d = [.. d[..(at + len)], .. d[at..]];
                    break;
                }
                default: // delete a span
                {
                    var at = Pos(d.Length);
                    var len = Math.Min(d.Length - at - 1, r.Next(1, 256));
                    if (len > 0) d = [.. d[..at], .. d[(at + len)..]];
                    break;
                }
            }
        }
        return d;
    }

    static long PeakResidentKib() =>
        File.Exists("/proc/self/status")
            ? long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:"))[6..].Trim().Split(' ')[0])
            : 0;

    [Fact]
    public async Task Mutated_real_images_give_images_or_BadInput_never_a_crash_or_hang()
    {
        var peakBefore = PeakResidentKib();
        var sw = Stopwatch.StartNew();
        int ok = 0, refused = 0;
        var problems = new Dictionary<string, int>();
        foreach (var (name, seedBytes) in Seeds())
        {
            var seedPath = BadFiles.Bytes(_tmp.Root, "seed-" + name, seedBytes);
            Assert.NotEmpty(ImageReader.Read(seedPath)); // the unmutated seed reads
            for (var i = 0; i < PerFormat; i++)
            {
                var r = new Random(HashCode.Combine(name.Length, name[0], i));
                var path = BadFiles.Bytes(_tmp.Root, $"{i:D4}-{name}", Mutate(seedBytes, r));
                var read = Task.Run(() => ImageReader.Read(path));
                IReadOnlyList<RawImage>? images = null;
                Exception? error = null;
                try { images = await read.WaitAsync(ReadLimit); }
                catch (TimeoutException) { Assert.Fail($"{path}: ImageReader did not finish within {ReadLimit}"); }
                catch (Exception e) { error = e; }
                if (images is not null)
                {
                    ok++;
                    foreach (var img in images)
                    {
                        Assert.True((long)img.Width * img.Height <= ImageReader.MaxPixels);
                        Assert.Equal((long)img.Channels * img.Width * img.Height, img.Pixels.LongLength);
                        Assert.All(img.Pixels, v => Assert.True(float.IsFinite(v)));
                    }
                }
                else
                {
                    Assert.True(error is HyphaException { Code: ExitCode.BadInput }, $"{path}: {error}");
                    Assert.Contains(path, error.Message);
                    refused++;
                    var kind = error.Message[(path.Length + 2)..].Split(':', '(')[0].Trim();
                    problems[kind] = problems.GetValueOrDefault(kind) + 1;
                }
                File.Delete(path);
            }
        }
        var grown = PeakResidentKib() - peakBefore;
        log.WriteLine($"{ok} read, {refused} refused in {sw.Elapsed.TotalSeconds:F1} s; peak resident memory grew {grown / 1024} MiB");
        foreach (var (kind, n) in problems.OrderByDescending(p => p.Value)) log.WriteLine($"  {n,4} x {kind}");
        Assert.True(grown < 2L << 20, $"peak resident memory grew by {grown / 1024} MiB");
        Assert.True(refused > 0 && ok > 0);
    }
}
