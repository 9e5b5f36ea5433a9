using System.Collections.Concurrent;
using Hypha.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Models.Perceptual;

/// <summary>
/// A perceptual distance between images from ImageNet ResNet-18 features: the weights of ResNet18.onnx from the
/// Microsoft.ML.DnnImageFeaturizer.ResNet18 package (the network <c>hypha evaluate</c> scores with, found as
/// <see cref="ResNet18Featurizer"/> finds it: DnnImageModels/ beside the application), run by <see cref="OnnxConvNet"/>
/// in TorchSharp so that the distance is differentiable with respect to the images. Frozen: nothing here trains.
/// </summary>
/// <remarks>
/// Stages (<see cref="StageCount"/>): 0 the stem's ReLU (64 channels at 1/2 the side), 1-4 the outputs of ResNet
/// stages conv2_x..conv5_x (64, 128, 256, 512 channels at 1/4..1/32), located in the graph by structure (the first
/// ReLU, the inputs of the stride-2 convolutions, the last ReLU). This CNTK ResNet-18 has basic blocks 2, 2, 2 and 3
/// per stage (torchvision's has 2 in the last stage too); the graph is run as it is. The distance is LPIPS's without its learned per-channel heads
/// (Zhang et al. 2018, the "baseline" variant with unit weights): per stage, features unit-normalized over channels at
/// every position, squared differences summed over channels and averaged over positions, then summed over stages.
/// Preprocessing as the featurizer's ResNetPreprocess.onnx: gray replicated to three channels, [0, 1] scaled to
/// 0..255, RGB to BGR, minus the ImageNet mean; that graph subtracts a 224x224 mean image, and images here keep their
/// own size (as LPIPS does), so the mean image's per-channel averages are subtracted. The CNTK export pads its stride-2
/// layers by 1 before and 0 after, so its residual shortcuts only line up on even sides: images whose side is not a
/// multiple of 2^(deepest stage + 1) are resized (bilinear) up to the next one.
/// </remarks>
public sealed class ResNet18Perceptual
{
    /// <summary>Stages that can be tapped: 0 (stem) to 4.</summary>
    public const int StageCount = 5;

    static readonly ConcurrentDictionary<string, Lazy<ResNet18Perceptual>> Loaded = new();

    readonly OnnxConvNet _net;
    readonly string[] _stageValues;
    readonly float[] _meanBgr;

    /// <summary>The ONNX value of each stage (0..4).</summary>
    public IReadOnlyList<string> StageValues => _stageValues;

    /// <summary>The per-channel ImageNet mean subtracted, in BGR order, on the 0..255 scale.</summary>
    public IReadOnlyList<float> MeanBgr => _meanBgr;

    /// <summary>The network as compiled, for tests that compare it with ONNX Runtime.</summary>
    public OnnxConvNet Network => _net;

    /// <summary>The ResNet18.onnx file under <paramref name="modelDir"/> (default <see cref="ResNet18Featurizer.DefaultModelDir"/>).</summary>
    public static string NetworkPath(string? modelDir = null) =>
        Path.Combine(modelDir ?? ResNet18Featurizer.DefaultModelDir, "ResNet18Onnx", "ResNet18.onnx");

    /// <summary>The ResNetPreprocess.onnx file under <paramref name="modelDir"/>.</summary>
    public static string PreprocessPath(string? modelDir = null) =>
        Path.Combine(modelDir ?? ResNet18Featurizer.DefaultModelDir, "ResNetPrepOnnx", "ResNetPreprocess.onnx");

    /// <summary>A configuration error naming the missing file when either ONNX file is absent (checked before training
    /// starts, so a run does not fail at its first step).</summary>
    public static void EnsureFiles(string? modelDir = null)
    {
        foreach (var p in new[] { NetworkPath(modelDir), PreprocessPath(modelDir) })
            if (!File.Exists(p))
                throw new HyphaException(ExitCode.InvalidConfig,
                    "the perceptual loss needs this ResNet-18 file, copied from the Microsoft.ML.DnnImageFeaturizer.ResNet18 package at build time; rebuild Hypha, or set --perceptual-weight 0", p);
    }

    /// <summary>The network of <paramref name="modelDir"/>, loaded once per process (about 47 MB of float32 weights,
    /// read-only and shared by every model that uses it; a second load would only duplicate them).</summary>
    public static ResNet18Perceptual Load(string? modelDir = null)
    {
        var key = Path.GetFullPath(NetworkPath(modelDir));
        return Loaded.GetOrAdd(key, _ => new Lazy<ResNet18Perceptual>(() => new ResNet18Perceptual(modelDir))).Value;
    }

    ResNet18Perceptual(string? modelDir)
    {
        EnsureFiles(modelDir);
        var graph = OnnxGraph.Read(NetworkPath(modelDir));
        _stageValues = LocateStages(graph, NetworkPath(modelDir));
        _meanBgr = ChannelMeans(OnnxGraph.Read(PreprocessPath(modelDir)), PreprocessPath(modelDir));
        _net = new OnnxConvNet(graph);
    }

    static string[] LocateStages(OnnxGraph graph, string path)
    {
        // Stage 0: the stem's ReLU; stages 1-3: the values that the stride-2 convolutions of the next stage read (the
        // last ReLU of the stage); stage 4: the graph's last ReLU (what its average pool reads).
        var relus = graph.Nodes.Where(n => n.Op == "Relu").ToList();
        var downsampled = graph.Nodes
            .Where(n => n.Op == "Conv" && n.Inputs[0] != graph.Inputs[0] && n.Ints("strides", [1, 1]).Any(s => s > 1))
            .Select(n => n.Inputs[0]).Distinct().ToList();
        if (relus.Count < 2 || downsampled.Count != 3 || !downsampled.All(v => relus.Any(r => r.Outputs[0] == v)))
            throw new InvalidDataException($"{path}: not the ResNet-18 graph expected ({downsampled.Count} downsampling stages after the stem, 3 expected)");
        return [relus[0].Outputs[0], .. downsampled, relus[^1].Outputs[0]];
    }

    static float[] ChannelMeans(OnnxGraph prep, string path)
    {
        var mean = prep.Initializers.Values.FirstOrDefault(t => t.Dims is [1, 3, _, _])
                   ?? throw new InvalidDataException($"{path}: no 1x3xHxW mean image");
        var plane = mean.Dims[2] * mean.Dims[3];
        return Enumerable.Range(0, 3).Select(c => (float)mean.Values.Skip((int)(c * plane)).Take((int)plane).Average(v => (double)v)).ToArray();
    }

    /// <summary>The side images are brought to for <paramref name="deepest"/>: <paramref name="side"/> rounded up to a
    /// multiple of 2^(deepest + 1).</summary>
    public static int InputSide(int side, int deepest)
    {
        var multiple = 2 << deepest;
        return (side + multiple - 1) / multiple * multiple;
    }

    /// <summary>Network input [B, 3, S, S] (BGR, 0..255 minus the mean) for images [B, C, H, W] in [0, 1], C 1 or 3,
    /// resized to <see cref="InputSide"/> for <paramref name="deepest"/>.</summary>
    public Tensor Preprocess(Tensor images, int deepest)
    {
        using var scope = NewDisposeScope();
        var x = images.to_type(ScalarType.Float32);
        if (x.shape[1] == 1) x = x.expand(-1, 3, -1, -1);
        else if (x.shape[1] == 3) x = x.flip(1); // RGB to BGR
        else throw new ArgumentException("images must have 1 or 3 channels", nameof(images));
        var side = InputSide((int)Math.Max(x.shape[2], x.shape[3]), deepest);
        if (x.shape[2] != side || x.shape[3] != side)
            x = nn.functional.interpolate(x, [side, side], mode: InterpolationMode.Bilinear, align_corners: false);
        using var mean = tensor(_meanBgr, [1, 3, 1, 1]).to(x.device);
        return (x * 255f - mean).MoveToOuterDisposeScope();
    }

    /// <summary>Features of <paramref name="images"/> at <paramref name="stages"/> (each 0..4), float32.</summary>
    public Tensor[] Features(Tensor images, IReadOnlyList<int> stages)
    {
        using var scope = NewDisposeScope();
        var x = Preprocess(images, stages.Max());
        var f = _net.Run(x, stages.Select(s => _stageValues[s]).ToArray());
        return f.Select(t => t.to_type(ScalarType.Float32).MoveToOuterDisposeScope()).ToArray();
    }

    /// <summary>
    /// The distance per image [B] between <paramref name="images"/> and <paramref name="targets"/> ([B, C, H, W] in
    /// [0, 1]) at <paramref name="stages"/>; differentiable with respect to <paramref name="images"/> (the targets'
    /// features are computed without gradients).
    /// </summary>
    public Tensor Distance(Tensor images, Tensor targets, IReadOnlyList<int> stages)
    {
        using var scope = NewDisposeScope();
        Tensor[] b;
        using (no_grad()) b = Features(targets, stages);
        var a = Features(images, stages);
        Tensor? total = null;
        for (var i = 0; i < a.Length; i++)
        {
            var d = (Normalize(a[i]) - Normalize(b[i])).square().sum(1).mean([1, 2]);
            total = total is null ? d : total + d;
        }
        return total!.MoveToOuterDisposeScope();
    }

    /// <summary>Unit length over channels at every position (LPIPS's normalize_tensor, eps 1e-10), with 1e-20 inside
    /// the root as well: after a ReLU a position may be zero in every channel, where the plain root's gradient is NaN.</summary>
    static Tensor Normalize(Tensor f) => f / ((f.square().sum(1, keepdim: true) + 1e-20).sqrt() + 1e-10);
}
