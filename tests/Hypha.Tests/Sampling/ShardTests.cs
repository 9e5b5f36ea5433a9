using Hypha.Sampling;
using Hypha.Tests.Faults;

namespace Hypha.Tests.Sampling;

/// <summary>Issue 16: <c>--shard K/N</c> slices; N array jobs write exactly the files one job writes.</summary>
public class ShardSliceTests
{
    [Theory]
    [InlineData("1/1", 1, 1)]
    [InlineData("3/8", 3, 8)]
    [InlineData(" 7 / 7 ", 7, 7)]
    public void K_of_N_parses(string text, int k, int n) => Assert.Equal(new Shard(k, n), Shard.Parse(text));

    [Theory]
    [InlineData("0/3", "K must be from 1 to N (3)")]
    [InlineData("4/3", "K must be from 1 to N (3)")]
    [InlineData("1/0", "N must be at least 1")]
    [InlineData("3", "is not K/N")]
    [InlineData("a/b", "is not K/N")]
    [InlineData("-1/3", "is not K/N")]
    [InlineData("1/2/3", "is not K/N")]
    [InlineData("", "is not K/N")]
    public void Bad_K_or_N_is_a_one_line_configuration_error_naming_the_option(string text, string problem)
    {
        var e = Assert.Throws<HyphaException>(() => Shard.Parse(text));
        Assert.Equal(ExitCode.InvalidConfig, e.Code);
        Assert.StartsWith("--shard: ", e.Message);
        Assert.Contains(problem, e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Fact]
    public void Slices_are_contiguous_disjoint_cover_the_set_and_start_on_batch_boundaries()
    {
        foreach (var total in new[] { 0, 1, 7, 10, 23, 1000 })
        foreach (var batch in new[] { 1, 2, 4, 256 })
        foreach (var n in Enumerable.Range(1, 9))
        {
            var next = 0;
            var nextEven = 0;
            for (var k = 1; k <= n; k++)
            {
                var (s, e) = new Shard(k, n).Batches(total, batch);
                Assert.Equal(next, s);
                Assert.True(e >= s);
                Assert.True(s % batch == 0 && (e % batch == 0 || e == total), $"{k}/{n} of {total} in batches of {batch}: [{s}, {e})");
                next = e;
                var (a, b) = new Shard(k, n).Even(total);
                Assert.Equal(nextEven, a);
                Assert.InRange(b - a, total / n, total / n + 1);
                nextEven = b;
            }
            Assert.Equal(total, next);
            Assert.Equal(total, nextEven);
        }
    }
}

/// <summary>Sharded sample and augment through the CLI, on tiny trained runs of both kinds of family.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ShardCliTests(TrainedRunFixture vae) : IClassFixture<TrainedRunFixture>, IDisposable
{
    readonly Faults.TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    /// <summary>Every file under <paramref name="dir"/>, relative, with its bytes.</summary>
    static List<(string Name, byte[] Bytes)> Contents(string dir) =>
        Faults.TempDir.FilesUnder(dir).Select(f => (f, File.ReadAllBytes(Path.Combine(dir, f)))).ToList();

    static void AssertSame(List<(string Name, byte[] Bytes)> expected, List<(string Name, byte[] Bytes)> actual, string what)
    {
        Assert.Equal(expected.Select(e => e.Name), actual.Select(a => a.Name));
        foreach (var (e, a) in expected.Zip(actual)) Assert.True(e.Bytes.AsSpan().SequenceEqual(a.Bytes), $"{what}: {e.Name} differs");
    }

    /// <summary>Runs the N jobs of a sharded command into <paramref name="outDir"/>, one after another.</summary>
    static void RunShards(int n, string outDir, params string[] args)
    {
        for (var k = 1; k <= n; k++)
        {
            var r = Faults.Cli.Run([.. args, "--out", outDir, "--shard", $"{k}/{n}"]);
            Assert.True(r.Code == 0, $"shard {k}/{n}: {r}");
        }
    }

    [Fact]
    public void The_union_of_N_sample_shards_is_byte_identical_for_N_1_3_and_7_for_a_VAE_and_a_diffusion_model()
    {
        var diffusion = _tmp.Path("diffusion");
        var train = Faults.Cli.Run("train", "--images", Tiny.Image, "--preset", "diffusion-cpu", "--chunk", "32", "--stride", "16", "--width", "8",
            "--channel-mult", "1,2", "--res-blocks", "1", "--attention", "16", "--epoch-size", "32", "--batch", "16", "--epochs", "1",
            "--threads", "1", "--device", "cpu", "--sample-steps", "2", "--run", diffusion);
        Assert.True(train.Code == 0, train.ToString());
        // VAE: 14 samples in batches of 2 are 7 batches, so 7 shards get one each; diffusion: 3 batches, so 4 of 7 shards are empty.
        foreach (var (run, count) in new[] { (vae.Run, "14"), (diffusion, "6") })
        {
            var one = _tmp.Path($"{Path.GetFileName(run)}-whole");
            var r = Faults.Cli.Run("sample", "--run", run, "--out", one, "--count", count, "--batch", "2", "--seed", "9", "--device", "cpu");
            Assert.True(r.Code == 0, r.ToString());
            var whole = Contents(one);
            Assert.Contains(whole, f => f.Name == "grid.png");
            Assert.Contains(whole, f => f.Name == "manifest.csv");
            foreach (var n in new[] { 1, 3, 7 })
            {
                var dir = _tmp.Path($"{Path.GetFileName(run)}-{n}");
                RunShards(n, dir, "sample", "--run", run, "--count", count, "--batch", "2", "--seed", "9", "--device", "cpu");
                AssertSame(whole, Contents(dir), $"{Path.GetFileName(run)}, {n} shards");
            }
        }
    }

    [Fact]
    public void A_shard_joins_its_own_set_again_and_refuses_another_set_or_foreign_files()
    {
        var dir = _tmp.Path("s");
        string[] args = ["sample", "--run", vae.Run, "--count", "6", "--batch", "2", "--device", "cpu", "--out", dir];
        Assert.Equal(0, Faults.Cli.Run([.. args, "--shard", "2/3"]).Code);
        Assert.Equal(["manifest.csv", "sample_000002.png", "sample_000003.png"], Faults.TempDir.FilesUnder(dir));
        // A retried array task writes its slice again: the same set, the same bytes.
        var before = File.ReadAllBytes(Path.Combine(dir, "sample_000002.png"));
        Assert.Equal(0, Faults.Cli.Run([.. args, "--shard", "2/3"]).Code);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(dir, "sample_000002.png")));

        // Another seed is another set: refused, nothing changed.
        var other = Faults.Cli.Run([.. args, "--shard", "1/3", "--seed", "5"]);
        Assert.True(other.Code == (int)ExitCode.OutputError, other.ToString());
        Assert.Contains("holds another set (manifest.csv differs", other.Err);
        Assert.Equal(["manifest.csv", "sample_000002.png", "sample_000003.png"], Faults.TempDir.FilesUnder(dir));
        // An unsharded job does not write into a set's folder either.
        Assert.Equal((int)ExitCode.OutputError, Faults.Cli.Run(args).Code);

        // A folder with other files and no manifest is not a set's.
        var foreign = Directory.CreateDirectory(_tmp.Path("f")).FullName;
        File.WriteAllText(Path.Combine(foreign, "notes.txt"), "keep me");
        var r = Faults.Cli.Run("sample", "--run", vae.Run, "--count", "6", "--batch", "2", "--device", "cpu", "--out", foreign, "--shard", "1/2");
        Assert.True(r.Code == (int)ExitCode.OutputError, r.ToString());
        Assert.Contains("already holds files but no manifest.csv of this set", r.Err);
        Assert.Equal(["notes.txt"], Faults.TempDir.FilesUnder(foreign));

        // A stack is one file: it cannot be sharded (before the checkpoint is read).
        var stack = Faults.Cli.Run("sample", "--run", _tmp.Path("no-such-run"), "--count", "6", "--out", _tmp.Path("t"), "--shard", "1/2", "--format", "tiff-stack");
        Assert.True(stack.Code == (int)ExitCode.InvalidConfig, stack.ToString());
        Assert.Contains("--shard writes one file per image", stack.Err);
        var bad = Faults.Cli.Run("sample", "--run", vae.Run, "--count", "6", "--out", _tmp.Path("t"), "--shard", "4/3");
        Assert.True(bad.Code == (int)ExitCode.InvalidConfig, bad.ToString());
        Assert.Contains("--shard: '4/3': K must be from 1 to N (3)", bad.Err);
        Assert.False(Directory.Exists(_tmp.Path("t")));
    }

    [Fact]
    public void The_union_of_augment_shards_is_the_folder_one_job_writes()
    {
        var run = AugmentTests.SmallRun(_tmp.Path("run"));
        string[] args = ["augment", "--run", run, "--count", "9", "--batch", "2", "--seed", "4", "--class", "roots", "--device", "cpu"];
        var one = _tmp.Path("whole");
        var r = Faults.Cli.Run([.. args, "--out", one]);
        Assert.True(r.Code == 0, r.ToString());
        var whole = Contents(one);
        foreach (var n in new[] { 7 }) // 5 synthetic batches: 2 of the 7 jobs sample nothing; every job writes real chunks
        {
            var dir = _tmp.Path($"aug-{n}");
            RunShards(n, dir, args);
            AssertSame(whole, Contents(dir), $"augment, {n} shards");
        }
    }
}
