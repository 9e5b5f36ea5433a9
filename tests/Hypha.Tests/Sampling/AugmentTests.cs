using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Hypha.Data;
using Hypha.Evaluation;
using Hypha.Imaging;
using Hypha.Runs;
using Hypha.Sampling;
using Hypha.Tests.Faults;
using Hypha.Tests.Imaging;

namespace Hypha.Tests.Sampling;

/// <summary>A tiny run with non-overlapping chunks (stride 32): a few hundred chunks, so augment writes little.</summary>
public sealed class SmallRunFixture : IDisposable
{
    readonly Faults.TempDir _tmp = new();
    public string Run { get; }

    public SmallRunFixture() => Run = AugmentTests.SmallRun(_tmp.Path("run"));

    public void Dispose() => _tmp.Dispose();
}

/// <summary>Issue 16: <c>hypha augment</c> through the CLI, its folder opened as a user would (the manifest checked
/// against the files, the real chunks against the run's images, the stacks read back).</summary>
[Collection(ConsoleCollection.Name)]
public sealed class AugmentTests(SmallRunFixture small) : IClassFixture<SmallRunFixture>, IDisposable
{
    readonly Faults.TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    /// <summary>Trains <see cref="Tiny"/>'s run with stride 32 into <paramref name="dir"/>.</summary>
    public static string SmallRun(string dir) => Tiny.Train(dir, "--stride", "32");

    static string[] Augment(string run, string outDir, params string[] extra) =>
        ["augment", "--run", run, "--out", outDir, "--device", "cpu", .. extra.Contains("--batch") ? extra : ["--batch", "4", .. extra]];

    static Faults.CliResult Ok(params string[] args)
    {
        var r = Faults.Cli.Run(args);
        Assert.True(r.Code == 0, r.ToString());
        return r;
    }

    /// <summary>Image files under the part folders, relative with '/'.</summary>
    static List<string> Images(string outDir) =>
        Faults.TempDir.FilesUnder(outDir).Select(f => f.Replace('\\', '/')).Where(f => !f.StartsWith("manifest-", StringComparison.Ordinal)).ToList();

    [Fact]
    public void Augment_writes_the_runs_split_and_samples_as_ImageFolder_reads_them_with_a_manifest_of_every_file()
    {
        var outDir = _tmp.Path("aug");
        var r = Ok(Augment(small.Run, outDir, "--count", "7", "--seed", "3", "--class", "roots"));
        Assert.Contains("images/s", r.Out);
        Assert.Contains("class 'roots'", r.Out);

        // ImageFolder's layout: each part holds one folder per class, the images inside.
        Assert.Equal(["manifest-roots.csv", "real", "synthetic", "test-real"], Directory.EnumerateFileSystemEntries(outDir).Select(Path.GetFileName).Order());
        foreach (var part in new[] { "real", "synthetic", "test-real" })
            Assert.Equal(["roots"], Directory.EnumerateFileSystemEntries(Path.Combine(outDir, part)).Select(Path.GetFileName));

        // The manifest against the files on disk: one row per file, every file listed.
        var rows = Manifest.Read(Path.Combine(outDir, "manifest-roots.csv"));
        Assert.Equal(Images(outDir).Order(StringComparer.Ordinal), rows.Select(x => x.Path).Order(StringComparer.Ordinal));
        Assert.All(rows, x => Assert.Null(x.Page));
        Assert.All(rows, x => Assert.Equal("roots", x.Class));
        var sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(RunCheckpoint.Path(small.Run))));
        Assert.All(rows, x => Assert.Equal((Path.GetFileName(small.Run), sha), (x.Run, x.CheckpointSha256)));

        // The run's split, part by part, as dataset.json recorded it when the model trained.
        var dataset = JsonNode.Parse(File.ReadAllText(Path.Combine(small.Run, "dataset.json")))!;
        var real = rows.Where(x => x.Path.StartsWith("real/roots/real_", StringComparison.Ordinal)).ToList();
        var held = rows.Where(x => x.Path.StartsWith("test-real/roots/", StringComparison.Ordinal)).ToList();
        var synthetic = rows.Where(x => x.Path.StartsWith("synthetic/roots/sample_", StringComparison.Ordinal)).ToList();
        Assert.Equal(rows.Count, real.Count + held.Count + synthetic.Count);
        Assert.Equal((int)dataset["train"]!, real.Count);
        Assert.Equal((int)dataset["validation"]!, held.Count(x => x.Split == "validation"));
        Assert.Equal((int)dataset["test"]!, held.Count(x => x.Split == "test"));
        Assert.True(held.Count > 0);
        Assert.All(real, x => Assert.Equal(("real", "train"), (x.Kind, x.Split)));
        Assert.All(held, x => Assert.Equal("real", x.Kind));
        Assert.All(held, x => Assert.StartsWith($"test-real/roots/{x.Split}_", x.Path));
        Assert.All(real.Concat(held), x => Assert.Equal((Path.GetFileName(Tiny.Image), 0), (Path.GetFileName(x.SourceImage), x.SourcePage!.Value)));
        Assert.True(File.Exists(real[0].SourceImage));
        Assert.Equal(Enumerable.Range(0, 7), synthetic.Select(x => x.Index));
        Assert.All(synthetic, x => Assert.Equal(("synthetic", 3L, "prior", ""), (x.Kind, x.Seed!.Value, x.Sampler, x.Split)));

        // Held-out chunks share no pixel with any training chunk: the downstream test is on real chunks never trained on.
        const int s = 32;
        foreach (var h in held)
            Assert.DoesNotContain(real, t => Math.Abs(t.X!.Value - h.X!.Value) < s && Math.Abs(t.Y!.Value - h.Y!.Value) < s);

        // Real files are the chunks the model trained on, cut from the normalized image at the manifest's position.
        using (var data = RunData.Open(RunFolder.Open(small.Run)))
            foreach (var x in real.Take(5).Concat(held.Take(5)))
            {
                using var chunk = data.Bank.Cut([new ChunkRef(0, x.X!.Value, x.Y!.Value)]);
                var expected = ImageEncoding.Pixels(chunk[0], 8).Select(b => (float)b).ToArray();
                Assert.Equal(expected, ImageReader.Read(Path.Combine(outDir, x.Path))[0].Pixels);
            }

        // Synthetic files are hypha sample's for the same seed, byte for byte.
        var samples = _tmp.Path("samples");
        Ok("sample", "--run", small.Run, "--out", samples, "--count", "7", "--seed", "3", "--batch", "4", "--device", "cpu");
        foreach (var x in synthetic)
            Assert.Equal(File.ReadAllBytes(Path.Combine(samples, Path.GetFileName(x.Path))), File.ReadAllBytes(Path.Combine(outDir, x.Path)));

        // The same seed gives the same files (in any batch size); another seed other synthetic ones and the same real ones.
        var again = _tmp.Path("again");
        Ok(Augment(small.Run, again, "--count", "7", "--seed", "3", "--class", "roots", "--batch", "7"));
        foreach (var f in Faults.TempDir.FilesUnder(outDir))
            Assert.True(File.ReadAllBytes(Path.Combine(outDir, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(again, f))), $"{f} differs for the same seed");
        var other = _tmp.Path("other");
        Ok(Augment(small.Run, other, "--count", "7", "--seed", "4", "--class", "roots"));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(outDir, synthetic[0].Path)), File.ReadAllBytes(Path.Combine(other, synthetic[0].Path)));
        Assert.Equal(File.ReadAllBytes(Path.Combine(outDir, real[0].Path)), File.ReadAllBytes(Path.Combine(other, real[0].Path)));
    }

    [Fact]
    public void Classes_are_added_one_call_each_and_a_class_is_replaced_only_with_overwrite()
    {
        var outDir = _tmp.Path("aug");
        var ratio = Ok(Augment(small.Run, outDir, "--synthetic-per-real", "0.02", "--class", "healthy"));
        var trainCount = (int)JsonNode.Parse(File.ReadAllText(Path.Combine(small.Run, "dataset.json")))!["train"]!;
        var expected = (int)Math.Round(0.02 * trainCount, MidpointRounding.AwayFromZero);
        Assert.Equal(expected, Directory.GetFiles(Path.Combine(outDir, "synthetic", "healthy")).Length);
        Assert.Contains($"{expected} synthetic", ratio.Out);

        // A second class beside the first: ImageFolder sees two classes in each part.
        Ok(Augment(small.Run, outDir, "--count", "3", "--class", "infected"));
        foreach (var part in new[] { "real", "synthetic", "test-real" })
            Assert.Equal(["healthy", "infected"], Directory.EnumerateDirectories(Path.Combine(outDir, part)).Select(Path.GetFileName).Order());
        Assert.True(File.Exists(Path.Combine(outDir, "manifest-healthy.csv")) && File.Exists(Path.Combine(outDir, "manifest-infected.csv")));

        // The same class again is refused, and nothing changes.
        var before = Images(outDir);
        var again = Faults.Cli.Run(Augment(small.Run, outDir, "--count", "2", "--class", "infected"));
        Assert.True(again.Code == (int)ExitCode.OutputError, again.ToString());
        Assert.Contains("already holds class 'infected'", again.Err);
        Assert.Contains("--overwrite", again.Err);
        Assert.Equal(before, Images(outDir));

        // --overwrite replaces that class alone: its earlier synthetic images beyond the new count go, the other class stays.
        Ok(Augment(small.Run, outDir, "--count", "1", "--class", "infected", "--overwrite"));
        Assert.Equal(["sample_000000.png"], Directory.GetFiles(Path.Combine(outDir, "synthetic", "infected")).Select(Path.GetFileName));
        Assert.Equal(expected, Directory.GetFiles(Path.Combine(outDir, "synthetic", "healthy")).Length);
        Assert.Equal(1, Manifest.Read(Path.Combine(outDir, "manifest-infected.csv")).Count(x => x.Kind == "synthetic"));

        // A folder holding anything else is refused before any work.
        var foreign = Directory.CreateDirectory(_tmp.Path("foreign")).FullName;
        File.WriteAllText(Path.Combine(foreign, "notes.txt"), "keep me");
        var r = Faults.Cli.Run(Augment(small.Run, foreign, "--count", "2"));
        Assert.True(r.Code == (int)ExitCode.OutputError, r.ToString());
        Assert.Contains("holds files that are not hypha augment's (notes.txt)", r.Err);
        Assert.Equal(["notes.txt"], Faults.TempDir.FilesUnder(foreign));
    }

    [Theory]
    [InlineData("neither", "give --count N (synthetic images) or --synthetic-per-real R")]
    [InlineData("both", "--count and --synthetic-per-real both say how many")]
    [InlineData("ratio0", "--synthetic-per-real must be a positive number (got 0)")]
    [InlineData("class", "--class: 'a/b' must be a folder name")]
    [InlineData("steps", "--steps applies to --sampler latent-diffusion only")]
    [InlineData("tiny-ratio", "gives no synthetic image")]
    public void Bad_options_are_one_line_errors_before_any_work(string how, string message)
    {
        var outDir = _tmp.Path("aug");
        string[] extra = how switch
        {
            "neither" => [],
            "both" => ["--count", "3", "--synthetic-per-real", "1"],
            "ratio0" => ["--synthetic-per-real", "0"],
            "class" => ["--count", "3", "--class", "a/b"],
            "steps" => ["--count", "3", "--steps", "5"],
            _ => ["--synthetic-per-real", "0.0001"],
        };
        var r = Faults.Cli.Run(Augment(small.Run, outDir, extra));
        Assert.True(r.Code == (int)ExitCode.InvalidConfig, r.ToString());
        Assert.Contains(message, r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.False(Directory.Exists(outDir), "a refused augment left its output folder behind");
    }

    [Fact]
    public void A_run_whose_images_no_longer_give_its_split_is_refused_so_nothing_trained_on_lands_in_test_real()
    {
        var run = TrainedRunFixture.Copy(small.Run, _tmp.Path("run"));
        var dataset = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "dataset.json")))!;
        dataset["train"] = (int)dataset["train"]! + 1; // as if an image had been edited since training
        File.WriteAllText(Path.Combine(run, "dataset.json"), dataset.ToJsonString());
        var outDir = _tmp.Path("aug");
        var r = Faults.Cli.Run(Augment(run, outDir, "--count", "2"));
        Assert.True(r.Code == (int)ExitCode.BadInput, r.ToString());
        Assert.Contains("no longer give the split it was trained on", r.Err);
        Assert.Contains("dataset.json", r.Err);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void A_run_split_by_random_chunks_is_augmented_with_a_warning_that_test_real_overlaps_real()
    {
        var run = Tiny.Train(_tmp.Path("chunks-run"), "--stride", "32", "--split", "chunks");
        var r = Ok(Augment(run, _tmp.Path("aug"), "--count", "2"));
        Assert.Contains("warning: the run was split by random chunks", r.Out);
        var quiet = Ok(Augment(small.Run, _tmp.Path("aug2"), "--count", "2"));
        Assert.DoesNotContain("warning", quiet.Out);
    }

    [Fact]
    public void Tiff16_files_and_tiff_stacks_hold_the_same_values_page_by_manifest_row()
    {
        var files = _tmp.Path("tiff16");
        Ok(Augment(small.Run, files, "--count", "5", "--format", "tiff16", "--class", "c"));
        var rows16 = Manifest.Read(Path.Combine(files, "manifest-c.csv"));
        Assert.All(rows16, x => Assert.EndsWith(".tif", x.Path));
        Assert.Equal(16, ImageReader.Read(Path.Combine(files, rows16[0].Path))[0].BitDepth);

        var stacks = _tmp.Path("stack");
        Ok(Augment(small.Run, stacks, "--count", "5", "--format", "tiff-stack", "--class", "c"));
        var rows = Manifest.Read(Path.Combine(stacks, "manifest-c.csv"));
        Assert.Equal(["real/c/real.tif", "synthetic/c/synthetic.tif", "test-real/c/test-real.tif"], Images(stacks));
        foreach (var g in rows.GroupBy(x => x.Path))
        {
            // Each stack's pages are its manifest rows, in order, and each page holds the file of the same row above.
            var pages = TiffStackTests.ReadPages(Path.Combine(stacks, g.Key));
            Assert.Equal(g.Count(), pages.Count);
            Assert.Equal(Enumerable.Range(0, g.Count()), g.Select(x => x.Page!.Value));
            Assert.Equal(TiffStackWriter.Description(g.Count(), 1, 16), pages[0].Description);
            Assert.All(pages, p => Assert.Equal((32, 32, 16, 1), (p.Width, p.Height, p.Bits, p.Samples)));
            var (row, same) = (g.Last(), rows16.Single(x => x.Kind == g.Last().Kind && x.Split == g.Last().Split && x.Index == g.Last().Index));
            Assert.Equal(ImageReader.Read(Path.Combine(files, same.Path))[0].Pixels, ImageReader.Read(Path.Combine(stacks, row.Path))[row.Page!.Value].Pixels);
        }
    }
}
