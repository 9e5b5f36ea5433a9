using Hypha.Models;
using Hypha.Models.Diffusion;
using Hypha.Models.ProgressiveVae;
using Hypha.Torch;
using static TorchSharp.torch;

namespace Hypha.Tests.Faults;

/// <summary>
/// Issue 15, "Limits": --width 100000 or --latent 1000000000 crashed inside libtorch with a 54-line trace and a
/// half-made run. Every family estimates its memory from its options (the descriptor contract); training refuses a model
/// that cannot fit with exit 8, the estimate and what the device has, and leaves no run folder; an allocation that still
/// fails is one line with exit 8.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class ModelMemoryTests : IDisposable
{
    readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    public static TheoryData<string, ModelOptions, int, int> Models => new()
    {
        { "resnet_vae small", new VaeOptions { Width = 4, Latent = 8 }, 1, 32 },
        { "resnet_vae rgb 64", new VaeOptions { Width = 8, Latent = 16 }, 3, 64 },
        { "provae pixel norm", new ProVaeOptions { Width = 4, Latent = 8 }, 1, 28 },
        { "provae batch norm, minibatch std", new ProVaeOptions { Width = 4, Latent = 8, Progressive = new ProgressiveOptions { PixelNorm = false, MinibatchStd = true } }, 3, 56 },
        { "diffusion two levels", new DiffusionOptions { Width = 8, ChannelMult = [1, 2], ResBlocks = 1, AttentionResolutions = [8] }, 1, 16 },
        { "diffusion default", new DiffusionOptions(), 3, 32 },
        { "autoencoder_kl default", new Hypha.Models.AutoencoderKl.AutoencoderKlOptions(), 1, 64 },
        { "autoencoder_kl rgb, four levels, two blocks", new Hypha.Models.AutoencoderKl.AutoencoderKlOptions { Width = 8, Latent = 3, ChannelMult = [1, 1, 2, 3], ResBlocks = 2 }, 3, 32 },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void The_estimate_counts_exactly_the_parameters_and_state_of_the_model_it_describes(string what, ModelOptions options, int channels, int resolution)
    {
        Assert.NotNull(what);
        var estimate = options.Descriptor.EstimateMemory(options, channels, resolution);
        using var model = options.Descriptor.Create(options, channels, resolution);
        var trainable = model.Module.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
        var state = model.Module.state_dict().Values.Sum(t => t.numel() * t.ElementSize);
        Assert.Equal(trainable, estimate.Parameters);
        Assert.Equal(state, estimate.StateBytes);
        Assert.True(estimate.ActivationBytesPerImage > 4L * channels * resolution * resolution, "activations at least hold the image");
    }

    [Fact]
    public void Activations_grow_with_the_batch_side_and_width()
    {
        var d = ModelRegistry.Get("resnet_vae");
        long Act(int width, int side) => d.EstimateMemory(new VaeOptions { Width = width, Latent = 64 }, 1, side).ActivationBytesPerImage;
        Assert.InRange(Act(16, 128) / (double)Act(16, 64), 3.5, 4.5);   // pixels
        Assert.InRange(Act(32, 64) / (double)Act(16, 64), 1.8, 2.1);    // channels
        var m = d.EstimateMemory(new VaeOptions { Width = 16, Latent = 64 }, 1, 64);
        Assert.Equal(m.StateBytes + m.OptimizerBytes + 32 * m.ActivationBytesPerImage, m.TrainingBytes(32));
        // Attention weights grow with the square of the pixels they attend over.
        var diffusion = ModelRegistry.Get("diffusion");
        long Attn(int[] at) => diffusion.EstimateMemory(new DiffusionOptions { AttentionResolutions = at }, 1, 64).ActivationBytesPerImage;
        Assert.True(Attn([8, 16, 32]) - Attn([8, 16]) > 3 * (Attn([8, 16]) - Attn([8])));
    }

    [Theory]
    [InlineData("--width", "100000")]
    [InlineData("--latent", "1000000000")]
    [InlineData("--preset", "diffusion-cpu", "--width", "100000")]
    [InlineData("--batch", "2000000000")]
    public void A_model_that_cannot_fit_is_refused_with_its_estimate_and_leaves_no_run_folder(params string[] args)
    {
        var run = _tmp.Path("run");
        var r = Cli.Run(args[0] == "--preset"
            ? ["train", "--images", Tiny.Image, "--chunk", "32", "--device", "cpu", "--run", run, .. args]
            : Tiny.TrainArgs(run, args));
        Assert.True(r.Code == (int)ExitCode.OutOfMemory, r.ToString());
        var line = Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches(@"^error: the (resnet_vae|diffusion) model \(width \d+.*\) would need about [\d.]+ [KMGTPE]iB to train at batch \d+ \([\d,]+ parameters: .* of weights, .* of gradients and Adam state, .* of activations\), more than the [\d.]+ [KMGT]iB of physical memory; refused before allocating", line);
        Assert.DoesNotContain("unexpected", r.Err);
        Assert.False(Directory.Exists(run), "the refused run left a folder behind");
    }

    [Fact]
    public void An_allocation_libtorch_cannot_make_is_one_line_with_exit_8()
    {
        TorchBackend.EnsureLoaded();
        var e = Assert.ThrowsAny<Exception>(() => { using var t = empty([1L << 46], ScalarType.Float32); }); // 256 TiB: more than any address space
        var oom = AllocationFailure.From(e);
        Assert.NotNull(oom);
        Assert.Equal(ExitCode.OutOfMemory, oom.Code);
        Assert.Equal("out of memory: libtorch could not allocate 256 TiB on the CPU; lower --batch or the model's size, or use a device with more memory (nothing was left half-written)", oom.Message);
        Assert.NotNull(AllocationFailure.From(new InvalidOperationException("wrapped", new OutOfMemoryException())));
        Assert.Null(AllocationFailure.From(new InvalidOperationException("a bug")));
    }

    [Fact]
    public void Sampling_more_than_memory_holds_is_one_line_and_leaves_no_output_folder()
    {
        // A tiny run with a wide latent: drawing 2^31 latents of 32768 values asks for 256 TiB at once.
        var run = Tiny.Train(_tmp.Path("run"), "--latent", "32768");
        var outDir = _tmp.Path("samples");
        var r = Cli.Run("sample", "--run", run, "--out", outDir, "--count", int.MaxValue.ToString(), "--batch", int.MaxValue.ToString());
        Assert.True(r.Code == (int)ExitCode.OutOfMemory, r.ToString());
        var line = Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        // libtorch's allocation of the latents, or .NET's of the set's manifest (written before sampling), fails first.
        Assert.StartsWith("error: out of memory: ", line);
        Assert.False(Directory.Exists(outDir), "the failed sampling left its output folder");
    }
}
