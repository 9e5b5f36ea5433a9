using System.Diagnostics;
using System.Text.Json;
using Hypha.Data;
using Hypha.Models;
using Hypha.Models.Diffusion;
using Hypha.Models.Layers;
using Hypha.Runs;
using Hypha.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Bench;

/// <summary>
/// <c>--mode diffusion</c>: training throughput of the diffusion model (forward with the loss, backward, FlatAdam step
/// and EMA update, one dispose scope per step, after --warmup steps) and DDIM sampling throughput with the EMA network
/// (--samples at once, --sample-steps timed denoising steps after one warm-up step; images per second are those of a
/// run of the model's default 50 steps at the median step time). Prints one JSON line.
/// </summary>
public static class DiffusionBench
{
    public static void Run(BenchArgs a, RunConfig config, PreparedData data, Device device)
    {
        var options = new DiffusionOptions { Width = a.Width, ChannelMult = a.Mult, ResBlocks = a.ResBlocks, AttentionResolutions = a.Attn };
        manual_seed(0);
        using var model = new DiffusionModel(options, data.Channels, data.ChunkSize);
        model.Module.to(device);
        model.Module.train();
        if (config.Train.ChannelsLastOn(device)) Autocast.StoreChannelsLast(model.Module); // as the Trainer does (PrepareWeights)
        using var bank = new ChunkBank(data, device);
        using var optimizer = TrainingOptimizer.For(model, 2e-4);
        void Sync() { if (device.type == DeviceType.CUDA) cuda.synchronize(); }
        var order = EpochOrder.For(data.Index.Train.Count, 0, 0, 0);
        var rssBeforeTrain = Hypha.Torch.PeakMemory.CurrentHostMiB();
        var train = new List<double>();
        for (var i = 0; i < a.Warmup + a.Steps; i++)
        {
            using var scope = NewDisposeScope();
            using var compute = config.Train.ComputeScope(device);
            var clock = Stopwatch.StartNew();
            var x = bank.Cut(data.Index.Train, order.AsSpan(i * a.Batch % (order.Length - a.Batch), a.Batch));
            var terms = model.Loss(x, new LossContext(0));
            _ = terms.Objective.item<float>();
            optimizer.ZeroGrad();
            terms.Objective.backward();
            optimizer.Step();
            model.AfterStep(i + 1);
            Sync();
            if (i >= a.Warmup) train.Add(clock.Elapsed.TotalMilliseconds);
        }

        var peakAfterTrain = Hypha.Torch.PeakMemory.HostMiB();
        model.Module.eval();
        var sampler = model.SamplerFor(new SamplerSettings { Sampler = "ddim", Steps = 50 });
        var sample = new List<double>();
        using (no_grad())
        using (config.Train.ComputeScope(device))
        {
            var generators = SampleNoise.Generators(1, 0, a.Samples);
            long[] shape = [data.Channels, data.ChunkSize, data.ChunkSize];
            var xt = SampleNoise.Draw(generators, shape).to(device);
            var steps = Math.Min(a.SampleSteps, sampler.Timesteps.Count - 1);
            for (var k = 0; k <= steps; k++) // step 0 warms up
            {
                using var scope = NewDisposeScope();
                var clock = Stopwatch.StartNew();
                var t = full(a.Samples, (long)sampler.Timesteps[k], ScalarType.Int64, device);
                var output = model.Average.forward(xt, t).to_type(ScalarType.Float32);
                var (prev, _) = sampler.Step(output, k, xt, null);
                Sync();
                xt.Dispose();
                xt = prev.MoveToOuterDisposeScope();
                if (k > 0) sample.Add(clock.Elapsed.TotalMilliseconds);
            }
            xt.Dispose();
            foreach (var g in generators) g.Dispose();
        }
        double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
        var trainMs = Median(train);
        var sampleMs = Median(sample);
        var result = new Dictionary<string, object>
        {
            ["impl"] = "hypha", ["torch"] = __version__, ["mode"] = "diffusion", ["chunk"] = a.Chunk, ["batch"] = a.Batch,
            ["width"] = a.Width, ["mult"] = a.Mult, ["res_blocks"] = a.ResBlocks, ["attn"] = a.Attn,
            ["params"] = model.Online.parameters().Sum(p => p.numel()), ["threads"] = get_num_threads(),
            ["train_images_per_s"] = Math.Round(a.Batch / (trainMs / 1000), 2), ["train_step_ms_median"] = Math.Round(trainMs, 1),
            ["sample_images_per_s"] = Math.Round(a.Samples / (sampleMs * sampler.Timesteps.Count / 1000), 3),
            ["sample_step_ms_median"] = Math.Round(sampleMs, 1), ["peak_rss_mib"] = Hypha.Torch.PeakMemory.HostMiB(),
            ["rss_before_train_mib"] = Math.Round(rssBeforeTrain, 1), ["peak_rss_train_mib"] = Math.Round(peakAfterTrain, 1),
            ["malloc"] = Hypha.Torch.HostAllocator.State,
        };
        Console.Error.WriteLine($"precision {a.Precision}, layout {(config.Train.ChannelsLastOn(device) ? "channels-last" : "nchw")}, {train.Count} train steps, {sample.Count} sample steps timed");
        Console.WriteLine(JsonSerializer.Serialize(result));
    }
}
