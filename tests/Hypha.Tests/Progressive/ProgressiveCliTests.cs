using Hypha.Models.ProgressiveVae;
using System.CommandLine;
using Hypha.Cli;
using Hypha.Models;

namespace Hypha.Tests.Progressive;

/// <summary>The proVAE's train options: epochs derived from the stages, switches, presets, chunk validation.</summary>
public sealed class ProgressiveCliTests
{
    static Runs.RunConfig Resolve(params string[] args)
    {
        var options = new RunOptions();
        var command = new Command("train");
        options.AddTo(command);
        var parsed = command.Parse(["--images", "x", .. args]);
        Assert.Empty(parsed.Errors);
        return options.Resolve(parsed, "thesis");
    }

    [Fact]
    public void EpochsFollowFromStagesUnlessGiven()
    {
        var c = Resolve("--model", "provae", "--chunk", "56", "--epochs-per-stage", "2");
        Assert.Equal("provae", c.Model.Kind);
        Assert.Equal(8, c.Train.Epochs); // 4 stages (7, 14, 28, 56) x 2
        Assert.Equal(5, Resolve("--model", "provae", "--chunk", "56", "--epochs-per-stage", "2", "--epochs", "5").Train.Epochs);
        Assert.Equal(180, Resolve("--preset", "provae").Train.Epochs);
        Assert.Equal(60, Resolve("--preset", "provae", "--epochs-per-stage", "10").Train.Epochs);
        Assert.Equal(90, Resolve().Train.Epochs); // the ResNet-18 VAE keeps its epochs
        Assert.IsType<VaeOptions>(Resolve().Model);
    }

    [Fact]
    public void SwitchesAndFadeAreApplied()
    {
        var p = ((ProVaeOptions)Resolve("--model", "provae", "--chunk", "112", "--fade-images", "5000", "--equalized-lr", "false",
            "--pixel-norm", "false", "--minibatch-std", "--scale-reconstruction").Model).Progressive;
        Assert.Equal(5000, p.FadeImages);
        Assert.False(p.EqualizedLr);
        Assert.False(p.PixelNorm);
        Assert.True(p.MinibatchStd);
        Assert.True(p.ScaleReconstruction);
        var cpu = ((ProVaeOptions)Resolve("--preset", "provae-cpu").Model).Progressive;
        Assert.False(cpu.PixelNorm);
        Assert.True(((ProVaeOptions)Resolve("--preset", "provae-cpu", "--pixel-norm", "true").Model).Progressive.PixelNorm);
    }

    [Fact]
    public void AChunkThatIsNotSevenTimesAPowerOfTwoIsAConfigError()
    {
        var e = Assert.Throws<HyphaException>(() => Resolve("--model", "provae", "--chunk", "64"));
        Assert.Equal(ExitCode.InvalidConfig, e.Code);
    }
}
