using System.Text.Json.Nodes;
using Hypha.Data;
using Hypha.Models;
using Hypha.Runs;
using Hypha.Tests.Faults;
using Hypha.Training;
using Hypha.Training.Observers;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Tests.Models;

/// <summary>
/// A model family that exists only in this test assembly: independent Gaussian pixels, a learned mean and log standard
/// deviation per pixel. It registers through one descriptor and must then train, checkpoint, sample and report through
/// the same code paths as the built-in families, with nothing else changed.
/// </summary>
public sealed record PixelGaussianOptions : ModelOptions
{
    /// <summary>Initial standard deviation of every pixel; default 0.3.</summary>
    public double InitialStd { get; init; } = 0.3;

    public override void Validate()
    {
        if (!(InitialStd > 0)) throw HyphaException.Config($"initial std must be positive (got {InitialStd})");
    }
}

public sealed class PixelGaussian : nn.Module, IGenerativeModel
{
    readonly TorchSharp.Modules.Parameter mean, logStd;

    public PixelGaussian(int channels, int resolution, double initialStd) : base(nameof(PixelGaussian))
    {
        (Channels, Resolution) = (channels, resolution);
        mean = new TorchSharp.Modules.Parameter(full([channels, resolution, resolution], 0.5f));
        logStd = new TorchSharp.Modules.Parameter(full([channels, resolution, resolution], (float)Math.Log(initialStd)));
        register_parameter("mean", mean);
        register_parameter("log_std", logStd);
    }

    public string Kind => PixelGaussianDescriptor.Key;
    public int Channels { get; }
    public int Resolution { get; }
    public nn.Module Module => this;

    public LossTerms Loss(Tensor x, LossContext context)
    {
        var z = (x - mean) / logStd.exp();
        var nll = (0.5 * z.square() + logStd).flatten(1).sum(1).mean();
        return new LossTerms(nll, new Dictionary<string, Tensor> { ["nll"] = nll, ["mean_std"] = logStd.exp().mean() });
    }

    public Tensor Sample(SampleRequest request)
    {
        this.RefuseSettings(request.Settings);
        using var noGrad = no_grad();
        var result = empty([request.Count, Channels, Resolution, Resolution]);
        for (var i = 0; i < request.Count; i++)
        {
            using var scope = NewDisposeScope();
            using var gen = new Generator((ulong)(request.Seed * 1_000_003 + request.Start + i));
            var noise = randn([Channels, Resolution, Resolution], generator: gen);
            result[i].copy_((mean.cpu() + logStd.exp().cpu() * noise).clamp(0, 1));
        }
        return result;
    }
}

public sealed class PixelGaussianDescriptor : ModelDescriptor<PixelGaussianOptions>
{
    public const string Key = "pixel_gaussian";
    public override string Name => Key;
    public override string Summary => "independent Gaussian pixels (a test family)";
    public override IReadOnlyList<ModelSetting> Settings { get; } =
        [ModelSetting.Of<PixelGaussianOptions, double>("initial-std", "Initial standard deviation of every pixel.", o => o.InitialStd, (o, v) => o with { InitialStd = v })];
    public override IReadOnlyList<LossTermInfo> Terms { get; } =
    [
        new("nll", "Negative log-likelihood per image", "Gaussian NLL of a chunk, nats (up to a constant).", LogScale: false),
        new("mean_std", "Mean pixel standard deviation", "How spread the learned pixels are."),
    ];
    protected override IGenerativeModel Create(PixelGaussianOptions o, int channels, int resolution) => new PixelGaussian(channels, resolution, o.InitialStd);
    protected override void ValidateShape(PixelGaussianOptions o, int channels, int resolution)
    {
        if (resolution > 128) throw HyphaException.Config($"chunk size {resolution} is too large for pixel_gaussian: at most 128");
    }
    protected override string FolderTag(PixelGaussianOptions o) => "pg";
    protected override ModelMemory EstimateMemory(PixelGaussianOptions o, int channels, int resolution) =>
        new MemoryTally().Weights(2.0 * channels * resolution * resolution).Activation(4 * channels, resolution).Result(); // a mean and a log-std per pixel; z, its square, the NLL terms
}

[Collection(ConsoleCollection.Name)]
public sealed class ContractTests : IDisposable
{
    readonly Faults.TempDir _tmp = new();

    public ContractTests() => ModelRegistry.Register(new PixelGaussianDescriptor());

    static string[] TrainArgs(string run, params string[] extra) =>
    [
        "train", "--images", Tiny.Image, "--preset", "cpu", "--chunk", "32", "--stride", "16", "--epoch-size", "64", "--batch", "16",
        "--threads", "1", "--device", "cpu", "--run", run, .. extra,
    ];

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void A_family_registered_in_a_test_assembly_trains_samples_and_reports_through_the_CLI()
    {
        var run = _tmp.Path("run");
        var train = Faults.Cli.Run(TrainArgs(run, "--model", "pixel_gaussian", "--initial-std", "0.25", "--epochs", "2", "--lr", "0.05"));
        Assert.True(train.Code == 0, train.ToString());

        var config = ConfigJson.Deserialize(File.ReadAllText(Path.Combine(run, "config.json")));
        Assert.Equal(0.25, Assert.IsType<PixelGaussianOptions>(config.Model).InitialStd);
        Assert.Contains("\"kind\": \"pixel_gaussian\"", File.ReadAllText(Path.Combine(run, "config.json")));

        // Its own loss terms, and nothing of the VAE's, reach metrics.csv, the curves and TensorBoard.
        var header = File.ReadLines(Path.Combine(run, "metrics.csv")).First().Split(',');
        Assert.Contains("nll", header);
        Assert.Contains("mean_std", header);
        Assert.DoesNotContain("kl", header);
        Assert.True(File.Exists(Path.Combine(run, "plots", "nll.png")));
        Assert.True(File.Exists(Path.Combine(run, "grids", "samples.png")));
        Assert.False(File.Exists(Path.Combine(run, "grids", "reconstructions.png"))); // it cannot reconstruct
        var rows = MetricsCsvObserver.Read(Path.Combine(run, "metrics.csv")).Where(r => r["phase"] == "train").ToList();
        Assert.True(double.Parse(rows[^1]["nll"], System.Globalization.CultureInfo.InvariantCulture)
                    < double.Parse(rows[0]["nll"], System.Globalization.CultureInfo.InvariantCulture), "the nll did not fall");

        var samples = _tmp.Path("samples");
        var sample = Faults.Cli.Run("sample", "--run", run, "--count", "5", "--out", samples, "--seed", "4");
        Assert.True(sample.Code == 0, sample.ToString());
        Assert.Equal(5, Directory.GetFiles(samples, "sample_*.png").Length);

        var steps = Faults.Cli.Run("sample", "--run", run, "--count", "2", "--out", _tmp.Path("s2"), "--steps", "10");
        Assert.Equal((int)ExitCode.InvalidConfig, steps.Code);
        Assert.Contains("--steps does not apply to the run's model (pixel_gaussian)", steps.Err);

        var recon = Faults.Cli.Run("reconstruct", "--run", run, "--out", _tmp.Path("r"));
        Assert.Equal((int)ExitCode.InvalidConfig, recon.Code);
        Assert.Contains("cannot reconstruct", recon.Err);

        var report = Faults.Cli.Run("report", "--run", run);
        Assert.True(report.Code == 0, report.ToString());
        var html = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Contains("does not encode chunks", html);
        Assert.Contains("Negative log-likelihood per image", html);
    }

    [Fact]
    public void A_setting_of_another_family_is_refused_by_name()
    {
        var r = Faults.Cli.Run(TrainArgs(_tmp.Path("run"), "--model", "pixel_gaussian", "--latent", "8"));
        Assert.Equal((int)ExitCode.InvalidConfig, r.Code);
        Assert.Contains("--latent does not apply to --model pixel_gaussian", r.Err);
        var bad = Faults.Cli.Run(Tiny.TrainArgs(_tmp.Path("run2"), "--model", "nonsense"));
        Assert.Equal((int)ExitCode.InvalidConfig, bad.Code);
        Assert.Contains("unknown model 'nonsense'", bad.Err);
        var parse = Faults.Cli.Run(Tiny.TrainArgs(_tmp.Path("run3"), "--width", "wide"));
        Assert.Equal((int)ExitCode.InvalidConfig, parse.Code);
        Assert.Contains("--width: 'wide' is not a whole number from", parse.Err);
    }

    [Fact]
    public void Help_defaults_come_from_the_presets()
    {
        var help = Faults.Cli.Run("train", "--help").Out;
        Assert.Contains("Default: 64 (thesis, provae, diffusion), 16 (cpu, cpu-sharp, autoencoder-kl-cpu, provae-cpu, diffusion-cpu)", help.Replace("\n", " ").Replace("  ", " "));
    }

    /// <summary>A config.json written before the registry (format 1: the VAE's beta and KL warm-up under train) still
    /// reads, with those settings moved to the model.</summary>
    [Fact]
    public void A_format_1_config_reads_with_beta_and_warmup_moved_to_the_model()
    {
        var node = JsonNode.Parse(ConfigJson.Serialize(Presets.Cpu))!.AsObject();
        node["format"] = 1;
        var model = node["model"]!.AsObject();
        var train = node["train"]!.AsObject();
        model.Remove("beta");
        model.Remove("kl_warmup");
        train["beta"] = 0.5;
        train["kl_warmup"] = 777;
        var back = ConfigJson.Deserialize(node.ToJsonString());
        var vae = Assert.IsType<VaeOptions>(back.Model);
        Assert.Equal(0.5, vae.Beta);
        Assert.Equal(777, vae.KlWarmup);
        Assert.Equal(RunConfig.CurrentFormat, back.Format);
        Assert.Equal(Presets.Cpu.Train, back.Train);
    }

    [Fact]
    public void Every_family_round_trips_through_config_json()
    {
        foreach (var preset in Presets.All.Values)
        {
            var back = ConfigJson.Deserialize(ConfigJson.Serialize(preset));
            Assert.Equal(preset.Model, back.Model);
            Assert.Equal(ConfigJson.Serialize(preset), ConfigJson.Serialize(back));
        }
        var unknown = ConfigJson.Serialize(Presets.Cpu).Replace("\"kind\": \"resnet_vae\"", "\"kind\": \"gan\"");
        var e = Assert.Throws<HyphaException>(() => ConfigJson.Deserialize(unknown));
        Assert.Contains("unknown model kind 'gan'", e.Message);
    }
}

/// <summary>--augment: flips and rotations move pixels, never change them, and cover their symmetries.</summary>
public sealed class AugmentationTests
{
    [Theory]
    [InlineData(Augment.Flips, 4)]
    [InlineData(Augment.Dihedral, 8)]
    public void Augmentation_keeps_each_chunks_pixels_and_reaches_every_symmetry(Augment mode, int variants)
    {
        using var scope = NewDisposeScope();
        var x = rand([64, 1, 8, 8], generator: new Generator(5));
        using var gen = new Generator(9);
        var y = Augmentation.Apply(x, mode, gen);
        Assert.Equal(x.shape, y.shape);
        // Same multiset of values per chunk: sorted pixels equal.
        Assert.True((x.flatten(1).sort(1).Values == y.flatten(1).sort(1).Values).all().item<bool>());
        Assert.Equal(x.mean().item<float>(), y.mean().item<float>(), 5);
        // Which of the symmetries each output is.
        var seen = new HashSet<int>();
        for (var i = 0; i < 64; i++)
            for (var code = 0; code < 8; code++)
                if ((Augmentation.Transform(x[i], code) == y[i]).all().item<bool>()) { seen.Add(code); break; }
        Assert.Equal(variants, seen.Count);
        Assert.All(seen, c => Assert.True(c < variants));
        Assert.Same(x, Augmentation.Apply(x, Augment.None));
    }
}
