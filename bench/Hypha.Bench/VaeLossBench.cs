using System.Diagnostics;
using System.Text.Json;
using Hypha.Data;
using Hypha.Models;
using Hypha.Models.Adversarial;
using Hypha.Runs;
using Hypha.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Bench;

/// <summary>
/// <c>--mode vae-losses</c>: the cost of each sharper VAE loss (issue 12) per training step, on the cpu preset's model
/// (width and latent from the command line) and chunks: one model per variant (thesis summed MSE, L1, L1 + patch
/// adversarial, L1 + perceptual at all five stages, L1 + perceptual at stages 1-2, all three with stages 0-4 and, as
/// the cpu-sharp preset, with stages 0-2), each trained through
/// the real <see cref="TrainingStep"/> (forward, loss, backward, Adam; the discriminator's own step when there is one).
/// The variants take turns step by step, so a change of load on a shared machine hits them alike; after
/// <c>--warmup</c> rounds, <c>--steps</c> rounds are timed and the median milliseconds per step of each printed, one
/// JSON line per variant.
/// </summary>
public static class VaeLossBench
{
    public static void Run(BenchArgs a, RunConfig config, PreparedData data, Device device)
    {
        var baseOptions = new VaeOptions { Width = a.Width, Latent = a.Latent };
        var l1 = baseOptions with { Reconstruction = ReconstructionLoss.L1 };
        var adversarial = l1 with { Adversarial = AdversarialLoss.Hinge, DiscWidth = 16, DiscLayers = 2, DiscAugment = Augment.Dihedral };
        var variants = new (string Name, VaeOptions Options)[]
        {
            ("thesis (summed MSE)", baseOptions),
            ("L1", l1),
            ("L1 + adversarial (disc width 16, 2 layers)", adversarial),
            ("L1 + perceptual (stages 0-4)", l1 with { PerceptualWeight = 0.1 }),
            ("L1 + perceptual (stages 1-2)", l1 with { PerceptualWeight = 0.1, PerceptualStages = [1, 2] }),
            ("L1 + adversarial + perceptual (0-4)", adversarial with { PerceptualWeight = 0.1 }),
            ("cpu-sharp: L1 + adversarial + perceptual (0-2)", adversarial with { PerceptualWeight = 0.1, PerceptualStages = [0, 1, 2] }),
        };
        using var bank = new ChunkBank(data, device);
        var train = config.Train with { Lr = 2e-3 };
        var runs = variants.Select(v =>
        {
            manual_seed(0);
            var model = v.Options.Descriptor.Create(v.Options, data.Channels, data.ChunkSize);
            model.Module.to(device);
            model.Module.train();
            Models.Layers.Autocast.PrepareWeights(model, train.ChannelsLastOn(device));
            var optimizer = TrainingOptimizer.For(model, train.Lr);
            var auxiliary = AuxiliaryTraining.For(model, train.Lr, device, train.ChannelsLastOn(device));
            return (v.Name, Model: model, Optimizer: optimizer, Auxiliary: auxiliary, Step: new TrainingStep(model, optimizer, train, auxiliary),
                Position: TrainingPosition.From(null), Times: new List<double>());
        }).ToList();
        var order = EpochOrder.For(data.Index.Train.Count, 0, 0, 0);
        for (var i = 0; i < a.Warmup + a.Steps; i++)
        {
            foreach (var r in runs)
            {
                using var scope = NewDisposeScope();
                using var compute = train.ComputeScope(device);
                var x = bank.Cut(data.Index.Train, order.AsSpan(i * a.Batch % (order.Length - a.Batch), a.Batch));
                var clock = Stopwatch.StartNew();
                r.Step.Run(x, r.Position, train.Lr, what => new InvalidOperationException(what));
                if (i >= a.Warmup) r.Times.Add(clock.Elapsed.TotalMilliseconds);
            }
        }
        var thesis = Median(runs[0].Times);
        foreach (var r in runs)
        {
            var ms = Median(r.Times);
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["tool"] = "hypha", ["mode"] = "vae-losses", ["variant"] = r.Name, ["chunk"] = a.Chunk, ["batch"] = a.Batch, ["width"] = a.Width,
                ["latent"] = a.Latent, ["threads"] = get_num_threads(), ["steps"] = a.Steps, ["ms_per_step_median"] = Math.Round(ms, 1),
                ["ms_min"] = Math.Round(r.Times.Min(), 1), ["ms_max"] = Math.Round(r.Times.Max(), 1), ["x_thesis"] = Math.Round(ms / thesis, 2),
                ["load_1min"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a",
            }));
            r.Auxiliary?.Dispose();
            r.Optimizer.Dispose();
            r.Model.Dispose();
        }
    }

    static double Median(List<double> v)
    {
        var s = v.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}
