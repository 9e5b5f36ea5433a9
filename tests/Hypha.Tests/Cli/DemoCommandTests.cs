namespace Hypha.Tests.Cli;

public class DemoCommandTests
{
    /// <summary>The README's first command, shortened: without --images the demo draws its labelled synthetic example,
    /// then trains, samples, reconstructs and writes the report page.</summary>
    [Fact]
    public void DemoWithoutImagesRunsTheWholePipelineOnALabelledSyntheticExample()
    {
        using var dir = new TempDir();
        var root = dir["demo"];
        var code = Hypha.Cli.CliApp.Run(["demo", "--out", root, "--epochs", "1", "--epoch-size", "64", "--width", "4", "--latent", "8"]);
        Assert.Equal(0, code);
        var examples = Directory.GetFiles(Path.Combine(root, "example-input-SYNTHETIC"));
        Assert.Equal(3, examples.Length);
        Assert.All(examples, f => Assert.Contains("SYNTHETIC", Path.GetFileName(f)));
        foreach (var f in new[] { "samples/grid.png", "samples/sample_000063.png", "reconstructions/grid_000.png",
                     "reconstructions/000000_orig.png", "reconstructions/000000_recon.png", "run/report.html", "run/checkpoints/last.ckpt" })
            Assert.True(new FileInfo(Path.Combine(root, f)).Length > 0, f);

        // A second demo into the same folder refuses instead of mixing runs.
        Assert.Equal((int)ExitCode.OutputError, Hypha.Cli.CliApp.Run(["demo", "--out", root, "--epochs", "1"]));
    }
}
