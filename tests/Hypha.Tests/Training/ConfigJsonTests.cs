using Hypha.Runs;

namespace Hypha.Tests.Training;

public class ConfigJsonTests
{
    [Fact]
    public void ConfigHoldsEachSettingOnceAndRoundTrips()
    {
        var json = ConfigJson.Serialize(Presets.Thesis);
        Assert.DoesNotContain("\"geometry\"", json);
        Assert.DoesNotContain("\"filter\"", json);
        Assert.Equal(json, ConfigJson.Serialize(ConfigJson.Deserialize(json)));
    }

    [Fact]
    public void UnknownKeysAndNewerFormatsAreRefused()
    {
        var json = ConfigJson.Serialize(Presets.Cpu);
        Assert.Equal(ExitCode.BadCheckpoint, Assert.Throws<HyphaException>(() => ConfigJson.Deserialize(json.Replace("\"preset\"", "\"presett\""))).Code);
        var newer = ConfigJson.Deserialize(json) with { Format = RunConfig.CurrentFormat + 1 };
        Assert.Contains("newer", Assert.Throws<HyphaException>(() => ConfigJson.Deserialize(ConfigJson.Serialize(newer))).Message);
    }
}
