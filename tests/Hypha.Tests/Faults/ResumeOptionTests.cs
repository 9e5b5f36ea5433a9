namespace Hypha.Tests.Faults;

/// <summary>Issue 15: <c>--resume</c> with options it cannot apply (<c>--lr</c>, <c>--chunk</c>, <c>--images</c>) refuses them by name.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ResumeOptionTests : IDisposable
{
    readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void Resume_refuses_the_options_it_cannot_apply_naming_them()
    {
        var run = Tiny.Train(_tmp.Path("run"));
        var before = File.ReadAllBytes(Path.Combine(run, "checkpoints", "last.ckpt"));
        var r = Cli.Run("train", "--resume", "--run", run, "--epochs", "2", "--lr", "0.5", "--chunk", "64", "--images", Tiny.Image);
        Assert.True(r.Code == (int)ExitCode.InvalidConfig, r.ToString());
        Assert.Contains("--resume cannot apply --images, --chunk, --lr", r.Err);
        Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(run, "checkpoints", "last.ckpt")));

        // The options a resume can apply still work.
        var ok = Cli.Run("train", "--resume", "--run", run, "--epochs", "2", "--device", "cpu");
        Assert.True(ok.Code == 0, ok.ToString());
    }
}
