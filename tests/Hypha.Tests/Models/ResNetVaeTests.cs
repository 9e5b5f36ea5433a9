using Hypha.Models;
using Hypha.Models.ResNetVae;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Tests.Models;

public class ResNetVaeTests
{
    [Theory]
    [InlineData(64, 1, 8, 16)]
    [InlineData(224, 1, 8, 32)]
    [InlineData(64, 3, 8, 16)]
    [InlineData(96, 1, 4, 8)]
    public void ShapesFollowChunkChannelsAndLatent(int size, int channels, int width, int latent)
    {
        using var scope = NewDisposeScope();
        using var model = new ResNetVae(new ResNetVaeOptions(channels, size, width, latent));
        var x = rand(2, channels, size, size);
        var output = VaeMath.Forward(model, x);
        Assert.Equal([2, channels, size, size], output.Reconstruction.shape);
        Assert.Equal([2, latent], output.Mu.shape);
        Assert.Equal([2, latent], output.LogVar.shape);
        Assert.InRange(output.Reconstruction.min().item<float>(), 0, 1);
        Assert.InRange(output.Reconstruction.max().item<float>(), 0, 1);
        var terms = VaeMath.Terms(x, output, 1.0);
        Assert.Equal(terms.Reconstruction.item<float>() / (channels * size * size), terms.MsePerPixel.item<float>(), 4);
    }

    [Fact]
    public void ThesisWidthHasResNet18EncoderSize()
    {
        using var model = new ResNetVae(new ResNetVaeOptions(3, 224, 64, 256));
        // torchvision's ResNet-18 has 11,176,512 parameters without its 1000-class fc; ours adds two 512->256 heads.
        var encoder = model.named_parameters().Where(p => p.name.StartsWith("encoder.")).Sum(p => p.parameter.numel());
        Assert.Equal(11_176_512 + 2 * (512 * 256 + 256), encoder);
    }

    [Theory]
    [InlineData(48)]
    [InlineData(100)]
    public void ChunkThatIsNotAMultipleOf32IsRefused(int size)
    {
        var e = Assert.Throws<HyphaException>(() => new ResNetVae(new ResNetVaeOptions(1, size, 8, 8)));
        Assert.Equal(ExitCode.InvalidConfig, e.Code);
        Assert.Contains("multiple of 32", e.Message);
    }

    [Fact]
    public void KlIsZeroAtThePriorAndLossAddsBetaTimesKl()
    {
        using var scope = NewDisposeScope();
        var x = rand(4, 1, 8, 8);
        var output = new VaeOutput(x.clone(), zeros(4, 5), zeros(4, 5), zeros(4, 5));
        var atPrior = VaeMath.Terms(x, output, 1.0);
        Assert.Equal(0, atPrior.Kl.item<float>(), 6);
        Assert.Equal(0, atPrior.Reconstruction.item<float>(), 6);
        var shifted = output with { Mu = ones(4, 5) };
        var terms = VaeMath.Terms(x, shifted, 2.0);
        Assert.Equal(2.5, terms.Kl.item<float>(), 5);           // 0.5 * sum(mu^2) = 0.5 * 5
        Assert.Equal(5.0, terms.Loss.item<float>(), 5);         // beta 2 * 2.5
    }

    /// <summary>The PyTorch reference in bench/pytorch writes its state-dict keys and shapes (thesis width 64, latent
    /// 256, gray, 64x64 chunks); Hypha's model must have exactly the same, so weights can be compared one to one.</summary>
    [Fact]
    public void StateDictMatchesThePyTorchReference()
    {
        var reference = File.ReadAllLines(RepoFile("bench", "pytorch", "state_dict_shapes.txt"))
            .Where(l => l.Trim().Length > 0).ToList();
        using var model = new ResNetVae(new ResNetVaeOptions(1, 64, 64, 256));
        var ours = model.state_dict().Select(kv => $"{kv.Key} {(kv.Value.dim() == 0 ? "scalar" : string.Join("x", kv.Value.shape))}").ToList();
        Assert.Equal(reference.Order(StringComparer.Ordinal), ours.Order(StringComparer.Ordinal));
    }

    static string RepoFile(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Hypha.sln"))) return Path.Combine([dir.FullName, .. parts]);
        throw new FileNotFoundException("repository root not found");
    }
}
