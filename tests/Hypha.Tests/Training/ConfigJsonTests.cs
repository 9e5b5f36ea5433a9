using System.Text.Json.Nodes;
using Hypha.Models;
using Hypha.Models.Adversarial;
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

    [Fact]
    public void A_config_written_before_the_sharper_losses_loads_with_them_at_the_thesis_defaults()
    {
        var node = JsonNode.Parse(ConfigJson.Serialize(Presets.Cpu))!.AsObject();
        var model = node["model"]!.AsObject();
        string[] added = ["reconstruction", "perceptual_weight", "perceptual_stages", "adversarial", "disc_width", "disc_layers", "disc_start",
            "adv_weighting", "adv_weight", "disc_lr", "disc_augment"];
        foreach (var key in added) Assert.True(model.Remove(key), key);
        var options = Assert.IsType<VaeOptions>(ConfigJson.Deserialize(node.ToJsonString()).Model);
        Assert.Equal(Presets.Cpu.Model, options);
        Assert.Equal(ReconstructionLoss.Mse, options.Reconstruction);
        Assert.Equal(AdversarialLoss.None, options.Adversarial);
        Assert.Equal(0, options.PerceptualWeight);
        Assert.Equal([0, 1, 2, 3, 4], options.PerceptualStages);
    }

    [Fact]
    public void Sharper_loss_settings_round_trip()
    {
        var config = Presets.Cpu with
        {
            Model = (VaeOptions)Presets.Cpu.Model with
            {
                Reconstruction = ReconstructionLoss.L1, PerceptualWeight = 0.1, PerceptualStages = [1, 3], Adversarial = AdversarialLoss.LeastSquares,
                DiscWidth = 16, DiscLayers = 2, DiscStart = 4096, AdvWeighting = AdversarialWeighting.Fixed, AdvWeight = 0.01, DiscLr = 1e-4,
                DiscAugment = Hypha.Data.Augment.Dihedral,
            },
        };
        var json = ConfigJson.Serialize(config);
        Assert.Contains("\"adversarial\": \"least_squares\"", json);
        Assert.Equal(json, ConfigJson.Serialize(ConfigJson.Deserialize(json)));
    }
}
