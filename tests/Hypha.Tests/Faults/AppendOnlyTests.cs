using Hypha.Evaluation;

namespace Hypha.Tests.Faults;

/// <summary>Issue 15, "Bytes that lie": a torn last line of metrics.jsonl is set aside, and an append after it starts on a fresh line.</summary>
public sealed class AppendOnlyTests : IDisposable
{
    readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    static EvaluationRecord Record(int seed) => new(DateTimeOffset.UnixEpoch.AddDays(seed), seed,
        new Dictionary<string, string> { ["run"] = "r" }, [], new Dictionary<string, string>());

    /// <summary>Two whole records, then the first half of a third (what a kill or a full disk during a write leaves).</summary>
    string Torn()
    {
        var path = _tmp.Path("metrics.jsonl");
        MetricsJsonl.Append(path, Record(1));
        MetricsJsonl.Append(path, Record(2));
        var third = MetricsJsonl.Serialize(Record(3));
        File.AppendAllText(path, third[..(third.Length / 2)]);
        return path;
    }

    [Fact]
    public void A_torn_last_line_is_set_aside_and_a_later_append_starts_on_a_fresh_line()
    {
        var path = Torn();
        Assert.Equal([1, 2], MetricsJsonl.ReadAll(path).Select(r => r.Seed));
        MetricsJsonl.Append(path, Record(4));
        Assert.Equal([1, 2, 4], MetricsJsonl.ReadAll(path).Select(r => r.Seed));
        Assert.EndsWith("\n", File.ReadAllText(path));
    }

    [Fact]
    public void Setting_aside_a_torn_line_warns_naming_the_file_and_the_line()
    {
        var path = Torn();
        var warnings = new List<string>();
        Assert.Equal(2, MetricsJsonl.ReadAll(path, warnings.Add).Count);
        var w = Assert.Single(warnings);
        Assert.StartsWith($"{path}: line 3 is torn", w);
        Assert.DoesNotContain("\n", w);

        // A damaged line in the middle (a torn line an older Hypha appended after) is set aside too, with its line number.
        File.WriteAllText(path, File.ReadAllText(path) + MetricsJsonl.Serialize(Record(5)) + "\n" + MetricsJsonl.Serialize(Record(6)) + "\n");
        warnings.Clear();
        Assert.Equal([1, 2, 6], MetricsJsonl.ReadAll(path, warnings.Add).Select(r => r.Seed));
        Assert.StartsWith($"{path}: line 3 is not a record", Assert.Single(warnings));
    }
}
