using System.Text.Json;

namespace Hypha.Tests.Faults;

/// <summary>
/// Issue 15, "Limits": seeds are 64-bit everywhere a seed is parsed (train, sample, evaluate, baseline, report); one
/// outside int64 is a one-line parse error naming the range, and one beyond int32 works from training to evaluation.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class SeedRangeTests : IDisposable
{
    readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    const string Int64Range = "is not a whole number from -9,223,372,036,854,775,808 to 9,223,372,036,854,775,807";

    [Theory]
    [InlineData("train")]
    [InlineData("sample")]
    [InlineData("evaluate")]
    [InlineData("baseline")]
    [InlineData("report")]
    public void A_seed_outside_int64_is_one_line_naming_the_range(string verb)
    {
        string[] args = verb switch
        {
            "train" => ["train", "--images", Tiny.Image, "--dry-run"],
            "sample" => ["sample", "--run", _tmp.Path("r"), "--out", _tmp.Path("o")],
            "baseline" => ["baseline", "--run", _tmp.Path("r"), "--out", _tmp.Path("o"), "--kind", "flips"],
            _ => [verb, "--run", _tmp.Path("r")],
        };
        var r = Cli.Run([.. args, "--seed", "9223372036854775808"]);
        Assert.True(r.Code == (int)ExitCode.InvalidConfig, r.ToString());
        var lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, r.ToString());
        Assert.Contains($"--seed: '9223372036854775808' {Int64Range}", lines[0]);
    }

    [Fact]
    public void Seeds_inside_int32_are_kept_as_they_are_and_larger_ones_are_mixed()
    {
        foreach (var s in new long[] { 0, 1, -1, int.MaxValue, int.MinValue }) Assert.Equal((int)s, SeedFold.ToInt32(s));
        var folded = new[] { 1L << 32, (1L << 32) + 1, 1L << 40, long.MaxValue, long.MinValue, 5_000_000_000 }.Select(SeedFold.ToInt32).ToList();
        Assert.Equal(folded.Count, folded.Distinct().Count());
        Assert.DoesNotContain(0, folded); // 2^32 does not fold onto 0 as a plain truncation would
        Assert.DoesNotContain(1, folded);
    }

    [Fact]
    public void A_seed_beyond_int32_trains_samples_and_evaluates()
    {
        const long seed = 5_000_000_000; // above int32
        var run = Tiny.Train(_tmp.Path("run"), "--seed", seed.ToString());
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json"))))
            Assert.Equal(seed, config.RootElement.GetProperty("train").GetProperty("seed").GetInt64());

        string[] Sample(string outDir, long s)
        {
            var r = Cli.Run("sample", "--run", run, "--out", _tmp.Path(outDir), "--count", "4", "--seed", s.ToString());
            Assert.True(r.Code == 0, r.ToString());
            return Directory.GetFiles(_tmp.Path(outDir), "sample_*.png").Order().Select(f => Convert.ToHexString(File.ReadAllBytes(f))).ToArray();
        }
        var a = Sample("a", 1L << 40);
        Assert.Equal(a, Sample("b", 1L << 40));           // the same 64-bit seed draws the same samples
        Assert.NotEqual(a, Sample("c", (1L << 40) + 1));  // and its neighbour others
        Assert.Equal(4, Sample("d", long.MinValue).Length);

        var e = Cli.Run("evaluate", "--run", run, "--metrics", "psnr", "--test-limit", "8", "--seed", (1L << 40).ToString(), "--threads", "1");
        Assert.True(e.Code == 0, e.ToString());
        var line = File.ReadLines(Path.Combine(run, "metrics.jsonl")).Last();
        using var record = JsonDocument.Parse(line);
        Assert.Equal(1L << 40, record.RootElement.GetProperty("seed").GetInt64());
    }
}
