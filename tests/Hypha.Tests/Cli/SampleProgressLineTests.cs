using Hypha.Cli;

namespace Hypha.Tests.Cli;

public sealed class SampleProgressLineTests
{
    [Fact]
    public void StepsOfTheBatchInHandCountTowardsRateAndEta()
    {
        var line = new SampleProgressLine(total: 300, batch: 256);
        line.Step(25, 50); // half of the first batch of 256 after 64 s: 128 images' worth, 2 img/s
        var text = line.Describe(TimeSpan.FromSeconds(64));
        Assert.Contains("sampled 0/300", text);
        Assert.Contains("step 25/50 of images 1-256", text);
        Assert.Contains("2.0 img/s", text);
        Assert.Contains("ETA 00:01:26", text); // 172 images left at 2 img/s

        line.Images(256);
        line.Step(10, 50); // the last batch holds 44 images
        text = line.Describe(TimeSpan.FromSeconds(128));
        Assert.Contains("sampled 256/300 · step 10/50 of images 257-300", text);
        line.Images(300);
        text = line.Describe(TimeSpan.FromSeconds(150));
        Assert.DoesNotContain("step", text);
        Assert.DoesNotContain("ETA", text);
    }
}
