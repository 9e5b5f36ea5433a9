using System.Text.Json;

namespace Hypha.Tests.Faults;

/// <summary>
/// Issue 15, "Limits": parse errors are one line naming the option and what it accepts; response files are off;
/// <c>--epochs 0</c> is refused; <c>--threads</c> above the cores is capped with a message.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class OptionParsingTests : IDisposable
{
    readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Theory]
    [InlineData("--epochs", "many", "whole number from 1 to")]
    [InlineData("--epochs", "1e9", "whole number from 1 to")]
    [InlineData("--epochs", "0", "whole number from 1 to")]
    [InlineData("--lr", "inf", "finite number")]
    [InlineData("--lr", "NaN", "finite number")]
    [InlineData("--seed", "99999999999999999999", "whole number from -9,223,372,036,854,775,808 to 9,223,372,036,854,775,807")]
    [InlineData("--kl-warmup", "lots", "whole number from")]
    public void A_bad_number_is_one_line_naming_the_option_and_the_range(string option, string value, string accepted)
    {
        var r = Cli.Run("train", "--images", Tiny.Image, "--dry-run", option, value);
        Assert.True(r.Code == (int)ExitCode.InvalidConfig, r.ToString());
        var lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, r.ToString());
        Assert.StartsWith($"error: {option}: '{value}' is not a ", lines[0]);
        Assert.Contains(accepted, lines[0]);
        Assert.DoesNotContain("System.", r.Err);
    }

    [Fact]
    public void Sample_count_that_is_not_a_number_is_one_line()
    {
        var r = Cli.Run("sample", "--run", _tmp.Path("none"), "--out", _tmp.Path("out"), "--count", "2.5");
        Assert.True(r.Code == (int)ExitCode.InvalidConfig, r.ToString());
        Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--count: '2.5' is not a whole number", r.Err);
    }

    [Fact]
    public void A_file_named_with_an_at_sign_is_an_image_not_a_response_file()
    {
        BadFiles.Copy(Tiny.Image, _tmp.Root, "@x.png");
        var r = Cli.RunIn(_tmp.Root, "prepare", "--preset", "cpu", "--images", "@x.png", "--chunk", "32", "--stride", "32", "--out", "prepared");
        Assert.True(r.Code == 0, r.ToString());
        Assert.True(File.Exists(_tmp.Path("prepared", "dataset.json")));
    }

    [Fact]
    public void Threads_above_the_cores_are_capped_with_a_message()
    {
        var r = Cli.Run("train", "--images", Tiny.Image, "--dry-run", "--threads", "1000");
        Assert.True(r.Code == 0, r.ToString());
        Assert.Contains($"--threads 1000 is more than the {Environment.ProcessorCount} core(s)", r.Err);
        using var json = JsonDocument.Parse(r.Out);
        Assert.Equal(Environment.ProcessorCount, json.RootElement.GetProperty("train").GetProperty("threads").GetInt32());
    }
}
