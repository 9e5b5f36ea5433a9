using System.Diagnostics;
using System.Text.Json;
using Hypha.Bench;
using Hypha.Data;
using Hypha.Imaging;
using Hypha.Models;
using Hypha.Models.Layers;
using Hypha.Runs;
using Hypha.Sampling;
using Hypha.Torch;
using Hypha.Training;
using TorchSharp;
using static TorchSharp.torch;

// One benchmark run, one JSON line on stdout. bench/run.sh repeats runs and takes medians.
if (args.Length > 0 && args[0] == "whole")
{
    TorchBackend.EnsureLoaded();
    WholeImageBench.Run(args[1..]); // issue 13's measurements: bench/whole/run.sh
    return;
}
var a = BenchArgs.Parse(args);
TorchBackend.EnsureLoaded();
if (a.Threads > 0) set_num_threads(a.Threads);
var device = DeviceSelector.Resolve(a.Device);
var config = new RunConfig
{
    Preset = "bench",
    Data = new DataOptions { Images = [a.Images], Chunk = a.Chunk, Stride = 16, Normalize = NormalizeMode.Standardize, Split = SplitMode.Regions },
    Model = new VaeOptions { Width = a.Width, Latent = a.Latent },
    Train = new TrainOptions
    {
        Epochs = 1, Batch = a.Batch, Lr = 5e-4, Device = a.Device, EpochSize = (a.Warmup + a.Steps) * a.Batch, ValLimit = a.Batch, LogEvery = 1_000_000,
        Precision = Enum.Parse<Precision>(a.Precision, ignoreCase: true), Layout = Enum.Parse<Layout>(a.Layout, ignoreCase: true),
    },
}.Validated();
// A .imagepack (bench/gpu/pack.sh) stands in for the image files where OpenCV's native library is not carried.
var data = ImagePack.IsPack(a.Images) ? DatasetBuilder.FromImages(ImagePack.Read(a.Images), config.Data, 0) : DatasetBuilder.Build(config.Data, 0);
if (a.Mode == "pack")
{
    ImagePack.Write(a.Out, data.Images);
    Console.WriteLine(JsonSerializer.Serialize(new { pack = a.Out, images = data.Images.Count, bytes = new FileInfo(a.Out).Length }));
    return;
}
if (a.Mode == "diffusion")
{
    DiffusionBench.Run(a, config, data, device);
    return;
}
if (a.Mode == "vae-losses")
{
    VaeLossBench.Run(a, config, data, device);
    return;
}
var result = new Dictionary<string, object>
{
    ["tool"] = "hypha", ["torchsharp"] = typeof(torch).Assembly.GetName().Version!.ToString(), ["libtorch"] = torch.__version__,
    ["device"] = device.ToString(), ["mode"] = a.Mode, ["precision"] = a.Precision, ["layout"] = a.Layout, ["chunk"] = a.Chunk, ["batch"] = a.Batch, ["width"] = a.Width, ["latent"] = a.Latent,
    ["threads"] = get_num_threads(), ["train_chunks"] = data.Index.Train.Count, ["cudnn_benchmark"] = CudnnAutotuner.Enabled()?.ToString() ?? "n/a",
    ["malloc"] = HostAllocator.State,
};
using var run = new TempRun();
using var bank = new ChunkBank(data, device);

switch (a.Mode)
{
    case "train":
    {
        manual_seed(0);
        using var model = (IEncoderModel)config.Model.Descriptor.Create(config.Model, data.Channels, data.ChunkSize);
        model.Module.to(device);
        var context = new TrainingContext(RunFolder.At(run.Path), config, model, bank, data.Index, device);
        var stamps = new List<double>();
        var faults = new List<long>();
        var clock = Stopwatch.StartNew();
        double trainingPeak = double.NaN;
        int fewestThreads = int.MaxValue;
        new Trainer(context, [], p =>
        {
            stamps.Add(clock.Elapsed.TotalSeconds);
            faults.Add(PeakMemory.MinorFaults());
            if (p.CpuThreads > 0) fewestThreads = Math.Min(fewestThreads, p.CpuThreads); // ThreadGovernor gave cores up
            // Peak memory of the training steps themselves, read before the epoch-end checkpoint write (which the
            // PyTorch reference does not do) can raise it.
            if (p.Step == p.StepsPerEpoch) trainingPeak = PeakMemory.HostMiB();
        }).Run(resume: false);
        result["train_peak_rss_mib"] = trainingPeak;
        if (fewestThreads != int.MaxValue) result["fewest_threads"] = fewestThreads;
        // Timed steps: after the warm-up ones, so allocator growth and kernel selection are not counted.
        var seconds = stamps[^1] - stamps[a.Warmup - 1];
        result["train_images_per_s"] = a.Steps * a.Batch / seconds;
        // Pages the allocator handed back to the kernel and touched again: each costs a fault and a zeroed page.
        result["train_minor_faults_per_step"] = (faults[^1] - faults[a.Warmup - 1]) / (double)a.Steps;
        result["data_share"] = DataShare(bank, data.Index.Train, a.Batch, seconds / a.Steps);
        break;
    }
    case "phases":
    {
        // The Trainer's step taken apart: forward with the loss, backward, optimizer step, each timed (medians in ms).
        manual_seed(0);
        using var model = (IEncoderModel)config.Model.Descriptor.Create(config.Model, data.Channels, data.ChunkSize);
        model.Module.to(device);
        model.Module.train();
        Autocast.PrepareWeights(model, config.Train.ChannelsLastOn(device)); // as the Trainer does
        using ITrainingOptimizer optimizer = a.Optimizer == "torch" ? new TorchAdam(model.Module.parameters(), config.Train.Lr) : new FlatAdam(model.Module.parameters(), config.Train.Lr);
        result["optimizer"] = a.Optimizer;
        var order = EpochOrder.For(data.Index.Train.Count, 0, 0, 0);
        var phases = new Dictionary<string, List<double>> { ["forward"] = [], ["backward"] = [], ["optimizer"] = [], ["step"] = [] };
        void Sync() { if (device.type == DeviceType.CUDA) cuda.synchronize(); }
        for (var i = 0; i < a.Warmup + a.Steps; i++)
        {
            using var scope = NewDisposeScope();
            using var compute = config.Train.ComputeScope(device);
            var clock = Stopwatch.StartNew();
            var x = ModelInput.Fit(model, bank.Cut(data.Index.Train, order.AsSpan(i * a.Batch % (order.Length - a.Batch), a.Batch)));
            var terms = model.Loss(x, new LossContext(0));
            _ = terms.Objective.item<float>();
            var f = clock.Elapsed.TotalMilliseconds;
            optimizer.ZeroGrad();
            terms.Objective.backward();
            Sync();
            var b = clock.Elapsed.TotalMilliseconds;
            optimizer.Step();
            Sync();
            var o = clock.Elapsed.TotalMilliseconds;
            if (i < a.Warmup) continue;
            phases["forward"].Add(f);
            phases["backward"].Add(b - f);
            phases["optimizer"].Add(o - b);
            phases["step"].Add(o);
        }
        foreach (var (k, v) in phases) result[k + "_ms_median"] = Math.Round(v.Order().ElementAt(v.Count / 2), 2);
        result["step_ms_mean"] = Math.Round(phases["step"].Average(), 2); // slow outlier steps show here, not in the median
        result["step_ms_max"] = Math.Round(phases["step"].Max(), 2);
        break;
    }
    case "sample":
    {
        using var model = (IEncoderModel)config.Model.Descriptor.Create(config.Model, data.Channels, data.ChunkSize);
        model.Module.to(device);
        Autocast.PrepareWeights(model, config.Train.ChannelsLastOn(device)); // as hypha sample loads a model
        using var compute = config.Train.ComputeScope(device);
        using var z = VaeMath.PriorLatents((a.Warmup + a.Steps) * a.Batch, a.Latent, 0);
        using (var warm = VaeMath.DecodeBatches(model, z.narrow(0, 0, a.Warmup * a.Batch), device, a.Batch)) { }
        var clock = Stopwatch.StartNew();
        using (var images = VaeMath.DecodeBatches(model, z.narrow(0, a.Warmup * a.Batch, a.Steps * a.Batch), device, a.Batch)) { }
        result["sample_images_per_s"] = a.Steps * a.Batch / clock.Elapsed.TotalSeconds;
        break;
    }
    case "decode":
    {
        // The decoder alone, batch by batch, without VaeMath.DecodeBatches's host copies (medians in ms).
        using var model = (IEncoderModel)config.Model.Descriptor.Create(config.Model, data.Channels, data.ChunkSize);
        model.Module.to(device);
        Autocast.PrepareWeights(model, config.Train.ChannelsLastOn(device));
        model.Module.eval();
        using var compute = config.Train.ComputeScope(device);
        using var ng = no_grad();
        var times = new List<double>();
        for (var i = 0; i < a.Warmup + a.Steps; i++)
        {
            using var scope = NewDisposeScope();
            var z = randn(a.Batch, a.Latent);
            var clock = Stopwatch.StartNew();
            model.Decode(z);
            if (i >= a.Warmup) times.Add(clock.Elapsed.TotalMilliseconds);
        }
        result["decode_ms_median"] = times.Order().ElementAt(times.Count / 2);
        result["decode_ms_mean"] = times.Average(); // the reference times its sampling as a mean
        break;
    }
    case "data":
    {
        var order = EpochOrder.For(data.Index.Train.Count, 0, 0, 0);
        var clock = Stopwatch.StartNew();
        long chunks = 0;
        for (var i = 0; clock.Elapsed.TotalSeconds < 3; i = (i + a.Batch) % (order.Length - a.Batch))
        {
            using var x = bank.Cut(data.Index.Train, order.AsSpan(i, a.Batch));
            if (device.type == DeviceType.CUDA) cuda.synchronize();
            chunks += a.Batch;
        }
        result["data_chunks_per_s"] = chunks / clock.Elapsed.TotalSeconds;
        break;
    }
    default:
        throw new ArgumentException($"unknown mode {a.Mode}");
}
result["peak_rss_mib"] = PeakMemory.HostMiB();
Console.WriteLine(JsonSerializer.Serialize(result));

// Share of a training step spent cutting its batch: time the cut alone over as many batches.
static double DataShare(ChunkBank bank, IReadOnlyList<ChunkRef> chunks, int batch, double stepSeconds)
{
    var order = EpochOrder.For(chunks.Count, 0, 1, 0);
    var clock = Stopwatch.StartNew();
    int n = 0;
    for (var i = 0; i + batch <= order.Length && n < 20; i += batch, n++)
    {
        using var x = bank.Cut(chunks, order.AsSpan(i, batch));
        _ = x.sum().item<float>(); // force completion on asynchronous devices
    }
    return clock.Elapsed.TotalSeconds / n / stepSeconds;
}
