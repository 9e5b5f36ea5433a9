using Hypha.Data;
using Hypha.Imaging;
using Hypha.Models;
using Hypha.Runs;
using Hypha.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Tests.Faults;

/// <summary>A model that behaves like <paramref name="inner"/> but lets a test poison the loss of chosen training steps.</summary>
/// <param name="poison">Called with the 1-based training-step number and the loss terms; returns the terms to use.</param>
sealed class FaultyModel(IGenerativeModel inner, Func<int, LossTerms, IGenerativeModel, LossTerms> poison) : IGenerativeModel
{
    int _calls;
    public string Kind => inner.Kind;
    public int Channels => inner.Channels;
    public int Resolution => inner.Resolution;
    public nn.Module Module => inner.Module;
    public LossTerms Loss(Tensor x, LossContext context) =>
        context.Validation ? inner.Loss(x, context) : poison(++_calls, inner.Loss(x, context), inner);
    public Tensor Sample(SampleRequest request) => inner.Sample(request);
    public void Dispose() { }
}

/// <summary>
/// NaN/Inf losses: each such step is skipped and counted; --max-bad-steps in a row stop training with Diverged and
/// keep the last good checkpoint; weights poisoned through a NaN gradient are never written over a good checkpoint.
/// Faults are injected by wrapping the model (<see cref="FaultyModel"/>), and a huge --lr checks the real thing.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class DivergenceTests : IDisposable
{
    readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    /// <summary>4 steps per epoch of 16 chunks.</summary>
    static RunConfig Config(int epochs, int maxBadSteps = 3) => Presets.Cpu with
    {
        Data = Presets.Cpu.Data with { Images = [Tiny.Image], Chunk = 32, Stride = 16 },
        Model = (VaeOptions)Presets.Cpu.Model with { Width = 4, Latent = 8 },
        Train = Presets.Cpu.Train with { Epochs = epochs, Batch = 16, EpochSize = 64, Threads = 1, Device = "cpu", MaxBadSteps = maxBadSteps },
    };

    static LossTerms NaNLoss(LossTerms t) => t with { Objective = t.Objective * float.NaN };

    (RunFolder Run, Func<TrainResult> Train) Setup(RunConfig config, Func<int, LossTerms, IGenerativeModel, LossTerms> poison)
    {
        var run = RunFolder.At(_tmp.Path("run"));
        var session = TrainingSession.Create(run, config);
        var faulty = new FaultyModel(session.Model, poison);
        return (run, () =>
        {
            try { return new Trainer(session.Context with { Model = faulty }, []).Run(resume: false); }
            finally { session.Dispose(); }
        });
    }

    static CheckpointHeader LoadFinite(RunFolder run, RunConfig config)
    {
        using var model = config.Model.Descriptor.Create(config.Model, 1, config.Data.Chunk);
        var header = Checkpoint.Load(run.LastCheckpoint, model, config.Model, 1, config.Data.Chunk, optimizer: null);
        using var scope = NewDisposeScope();
        Assert.All(model.Module.parameters(), p => Assert.True(isfinite(p).all().item<bool>(), "checkpoint holds non-finite weights"));
        return header;
    }

    [Fact]
    public void Isolated_NaN_steps_are_skipped_and_counted()
    {
        var config = Config(epochs: 2);
        var (run, train) = Setup(config, (step, t, _) => step is 2 or 5 or 7 ? NaNLoss(t) : t);
        var result = train();
        Assert.True(result.Complete);
        Assert.Equal(3, result.SkippedSteps);
        var header = LoadFinite(run, config);
        Assert.Equal(3, header.SkippedSteps);
        Assert.Equal(8 - 3, header.GlobalStep);
        Assert.True(header.Complete);
    }

    [Fact]
    public void NaN_losses_in_a_row_stop_with_Diverged_and_keep_the_last_good_checkpoint()
    {
        var config = Config(epochs: 3);
        var (run, train) = Setup(config, (step, t, _) => step >= 6 ? NaNLoss(t) : t); // epoch 2, from step 2 on
        var e = Assert.Throws<HyphaException>(() => train());
        Assert.Equal(ExitCode.Diverged, e.Code);
        Assert.Contains("NaN or infinite for 3 steps in a row (epoch 2, step 4)", e.Message);
        Assert.Contains("the last good checkpoint is kept", e.Message);
        var header = LoadFinite(run, config);
        Assert.Equal(1, header.Epoch);
        Assert.Equal(0, header.StepInEpoch);
        Assert.Equal(4, header.GlobalStep);
    }

    [Fact]
    public void Weights_poisoned_by_a_NaN_gradient_are_not_written_over_the_last_good_checkpoint()
    {
        var config = Config(epochs: 3);
        // Step 8 is the last of epoch 2: its loss is finite, but sqrt at 0 makes the gradient NaN, and Adam writes it into the weights.
        var (run, train) = Setup(config, (step, t, m) =>
        {
            if (step != 8) return t;
            var p = m.Module.parameters().First();
            return t with { Objective = t.Objective + (p - p.detach()).square().sum().sqrt() };
        });
        var e = Assert.Throws<HyphaException>(() => train());
        Assert.Equal(ExitCode.Diverged, e.Code);
        Assert.Contains("the weights became NaN or infinite", e.Message);
        Assert.Contains("the last good checkpoint is kept", e.Message);
        var header = LoadFinite(run, config);
        Assert.Equal(1, header.Epoch);
    }

    [Fact]
    public void A_huge_learning_rate_exits_with_Diverged_through_the_cli()
    {
        var run = _tmp.Path("cli-run");
        var r = Cli.Run(Tiny.TrainArgs(run, "--lr", "1e30", "--max-bad-steps", "3", "--epochs", "2"));
        Assert.True(r.Code == (int)ExitCode.Diverged, r.ToString());
        Assert.Matches("the (loss|weights) (was|became) NaN or infinite", r.Err);
        Assert.Contains("--lr", r.Err);
        // Either no checkpoint was written yet, or the one kept is finite.
        if (File.Exists(Path.Combine(run, "checkpoints", "last.ckpt")))
            LoadFinite(RunFolder.Open(run), RunFolder.Open(run).ReadConfig());
        else
            Assert.Contains("no checkpoint had been written yet", r.Err);
    }
}
