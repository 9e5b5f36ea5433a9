using System.Diagnostics;
using System.Globalization;

namespace Hypha.Tests.Imaging;

/// <summary>
/// ImageJ 1.x itself (Debian package <c>imagej</c>, installed by .ci/run; Fiji is ImageJ with plugins) opening files as
/// a user's File > Open does: <c>IJ.openImage</c>, headless, through a one-file Java program run by the JDK's source
/// launcher. <see cref="Require"/> fails in CI (CI set) when ImageJ or the JDK is missing and skips the test elsewhere.
/// </summary>
public static class ImageJ
{
    /// <summary>What ImageJ made of one file.</summary>
    /// <param name="Sums">Per stack plane, the sum of its pixel values as ImageJ decoded them (gray images).</param>
    public sealed record Opened(string Path, int StackSize, int Slices, int Channels, int Frames, int BitDepth, int Width, int Height, bool Hyperstack, long[] Sums);

    /// <summary>HYPHA_IMAGEJ_JAR if set, else Debian's /usr/share/java/ij.jar; null when it or java is missing.</summary>
    public static string? Find()
    {
        var jar = Environment.GetEnvironmentVariable("HYPHA_IMAGEJ_JAR") is { Length: > 0 } env ? env : "/usr/share/java/ij.jar";
        return File.Exists(jar) && File.Exists("/usr/bin/java") ? jar : null;
    }

    public static string Require()
    {
        if (Find() is { } jar) return jar;
        const string message = "ImageJ not found (install the Debian package: apt-get install -y imagej, as .ci/run does; or set HYPHA_IMAGEJ_JAR)";
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"))) Assert.Fail(message);
        Skip.If(true, message + "; skipped because CI is not set");
        return "";
    }

    const string Program = """
        import ij.IJ;
        import ij.ImagePlus;
        import ij.process.ImageProcessor;
        public class OpenInImageJ {
            public static void main(String[] args) {
                for (String p : args) {
                    ImagePlus imp = IJ.openImage(p);
                    if (imp == null) { System.out.println("FAILED\t" + p); continue; }
                    StringBuilder sums = new StringBuilder();
                    for (int s = 1; s <= imp.getStackSize(); s++) {
                        ImageProcessor ip = imp.getStack().getProcessor(s);
                        long sum = 0;
                        for (int i = 0; i < ip.getPixelCount(); i++) sum += ip.get(i);
                        sums.append(s == 1 ? "" : ",").append(sum);
                    }
                    System.out.println("OPENED\t" + p + "\t" + imp.getStackSize() + "\t" + imp.getNSlices() + "\t" + imp.getNChannels() + "\t"
                        + imp.getNFrames() + "\t" + imp.getBitDepth() + "\t" + imp.getWidth() + "\t" + imp.getHeight() + "\t" + imp.isHyperStack()
                        + "\t" + sums);
                }
            }
        }
        """;

    /// <summary>Opens every file in ImageJ; fails the test naming a file ImageJ could not open.</summary>
    public static List<Opened> Open(string jar, params string[] paths)
    {
        var dir = Directory.CreateTempSubdirectory("hypha-imagej-");
        try
        {
            var source = Path.Combine(dir.FullName, "OpenInImageJ.java");
            File.WriteAllText(source, Program);
            var psi = new ProcessStartInfo("/usr/bin/java", ["-Djava.awt.headless=true", "-cp", jar, source, .. paths])
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(TimeSpan.FromSeconds(120))) { p.Kill(true); Assert.Fail("ImageJ did not finish in 120 s"); }
            Assert.True(p.ExitCode == 0, $"java exited {p.ExitCode}: {stderr.Result}");
            var opened = new List<Opened>();
            foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var f = line.Split('\t');
                Assert.True(f[0] == "OPENED", $"ImageJ could not open {f[^1]}");
                int I(int i) => int.Parse(f[i], CultureInfo.InvariantCulture);
                opened.Add(new Opened(f[1], I(2), I(3), I(4), I(5), I(6), I(7), I(8), f[9] == "true",
                    f[10].Split(',').Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray()));
            }
            Assert.Equal(paths.Length, opened.Count);
            return opened;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
