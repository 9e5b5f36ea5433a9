using Hypha.Models;
using Hypha.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Hypha.Tests.Training;

/// <summary>FlatAdam against TorchSharp's Adam (the reference update), its state round trip, clipping, and its guard
/// against gradients moved out of its buffer.</summary>
public class FlatAdamTests
{
    static readonly VaeOptions Small = new() { Width = 4, Latent = 8 };

    static IGenerativeModel Model(int seed)
    {
        manual_seed(seed);
        return Small.Descriptor.Create(Small, 1, 32);
    }

    /// <summary>Steps <paramref name="from"/> to <paramref name="to"/> of a run on fixed random batches; each step seeds
    /// the global generator (the VAE's reparameterization noise) from its index, so runs split in two match.</summary>
    static void Train(IGenerativeModel model, ITrainingOptimizer optimizer, int from, int to, double clip = 0)
    {
        model.Module.train();
        for (var i = from; i < to; i++)
        {
            using var scope = NewDisposeScope();
            var x = rand([8, 1, 32, 32], generator: new Generator((ulong)(500 + i)));
            manual_seed(1000 + i);
            var terms = model.Loss(x, new LossContext(0));
            optimizer.ZeroGrad();
            terms.Objective.backward();
            if (clip > 0) optimizer.ClipGradNorm(clip);
            optimizer.Step();
        }
    }

    static Dictionary<string, float[]> Weights(IGenerativeModel m) =>
        m.Module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to_type(ScalarType.Float32).data<float>().ToArray());

    static void AssertClose(Dictionary<string, float[]> expected, Dictionary<string, float[]> actual, double tolerance)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, e) in expected)
        {
            var worst = e.Zip(actual[name], (x, y) => Math.Abs(x - y)).DefaultIfEmpty(0).Max();
            Assert.True(worst <= tolerance, $"{name}: differs by {worst}");
        }
    }

    /// <summary>Three parameter tensors of different shapes on a smooth loss whose gradients stay away from zero.</summary>
    static Parameter[] Parameters() =>
    [
        new(linspace(-1, 1, 4 * 3 * 3 * 3).reshape(4, 3, 3, 3)),
        new(linspace(0.5, 2, 7)),
        new(linspace(-2, 2, 25).reshape(5, 5)),
    ];

    static Tensor SmoothLoss(Parameter[] p) =>
        (p[0] - 0.3).pow(2).sum() + p[1].exp().sum() + (p[2].pow(2) + 1).log().sum() * 3 + (p[2] * p[0][0, 0, 0, 0]).sum();

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)] // a clip that acts on every step
    public void Matches_torch_adam_step_for_step(double clip)
    {
        var reference = Parameters();
        var flat = Parameters();
        using var torchAdam = new TorchAdam(reference, 0.05);
        using var flatAdam = new FlatAdam(flat, 0.05);
        for (var i = 0; i < 30; i++)
            foreach (var (p, adam) in new[] { (reference, (ITrainingOptimizer)torchAdam), (flat, flatAdam) })
            {
                using var scope = NewDisposeScope();
                adam.ZeroGrad();
                SmoothLoss(p).backward();
                if (clip > 0) adam.ClipGradNorm(clip);
                adam.Step();
            }
        for (var k = 0; k < flat.Length; k++)
        {
            using var start = Parameters()[k];
            Assert.True((flat[k] - start).abs().max().item<float>() > 0.3f, $"parameter {k} hardly moved");
            var worst = (flat[k] - reference[k]).abs().max().item<float>();
            Assert.True(worst < 1e-5f, $"parameter {k} differs by {worst}");
        }
    }

    [Fact]
    public void Trains_the_VAE_like_torch_adam_on_its_first_step()
    {
        using var reference = Model(3);
        using var flat = Model(3);
        using (var torchAdam = new TorchAdam(reference.Module.parameters(), 2e-3)) Train(reference, torchAdam, 0, 1);
        using (var flatAdam = new FlatAdam(flat.Module.parameters(), 2e-3)) Train(flat, flatAdam, 0, 1);
        // (Over more steps float32 rounding, lerp against mul + add, grows where gradients are near 0.)
        AssertClose(Weights(reference), Weights(flat), 1e-6);
    }

    [Fact]
    public void Saved_state_continues_exactly()
    {
        using var straight = Model(4);
        using (var adam = new FlatAdam(straight.Module.parameters(), 1e-3)) Train(straight, adam, 0, 4);

        using var first = Model(4);
        using var stream = new MemoryStream();
        using (var adam = new FlatAdam(first.Module.parameters(), 1e-3))
        {
            Train(first, adam, 0, 2);
            using var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            adam.Save(w);
            StateDictFile.Write(w, first.Module);
        }
        stream.Position = 0;
        using var second = Model(99);
        using var resumed = new FlatAdam(second.Module.parameters(), 1e-3);
        using (var r = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            resumed.Load(r);
            StateDictFile.Read(r, second.Module); // into the flat storage: the loaded weights are the ones the optimizer updates
        }
        Assert.Equal(2, resumed.Steps);
        Train(second, resumed, 2, 4);
        AssertClose(Weights(straight), Weights(second), 0);
    }

    [Fact]
    public void State_of_another_model_size_is_refused()
    {
        using var a = Model(1);
        using var stream = new MemoryStream();
        using (var adam = new FlatAdam(a.Module.parameters(), 1e-3))
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
            adam.Save(w);
        stream.Position = 0;
        manual_seed(1);
        using var b = ModelRegistry.Get("resnet_vae").Create(Small with { Latent = 16 }, 1, 32);
        using var other = new FlatAdam(b.Module.parameters(), 1e-3);
        using var r = new BinaryReader(stream);
        var e = Assert.Throws<InvalidDataException>(() => other.Load(r));
        Assert.Contains("parameters", e.Message);
    }

    [Fact]
    public void Keeps_channels_last_strides_of_a_weight()
    {
        using var conv = nn.Conv2d(3, 8, 3);
        using (no_grad())
        {
            // A channels-last weight made with strides, as --layout nhwc does.
            var nhwc = conv.weight!.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
            conv.weight!.set_(nhwc);
        }
        var before = conv.weight!.stride();
        var values = conv.weight!.data<float>().ToArray();
        using var adam = new FlatAdam(conv.parameters(), 1e-3);
        Assert.Equal(before, conv.weight!.stride());
        Assert.Equal(values, conv.weight!.data<float>().ToArray());
        using var x = randn(2, 3, 8, 8);
        adam.ZeroGrad();
        conv.forward(x).sum().backward();
        adam.Step();
        Assert.NotEqual(values, conv.weight!.data<float>().ToArray());
    }

    [Fact]
    public void A_gradient_moved_out_of_the_buffer_is_an_error_not_a_silent_stall()
    {
        using var model = Model(2);
        using var adam = new FlatAdam(model.Module.parameters(), 1e-3);
        model.Module.parameters().First().grad = null;
        var e = Assert.Throws<InvalidOperationException>(adam.ZeroGrad);
        Assert.Contains("FlatAdam", e.Message);
    }
}
