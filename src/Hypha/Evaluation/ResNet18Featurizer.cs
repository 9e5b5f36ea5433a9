using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Evaluation;

/// <summary>
/// 512-d ImageNet ResNet18 features (global average pool output) from the ONNX models of the NuGet package
/// Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 (a CNTK export), run with ONNX Runtime on CPU. The feature
/// space is "resnet18": distances in it are not comparable with Inception-v3 FID/KID.
/// </summary>
/// <remarks>
/// Preprocessing, worked out from ResNetPreprocess.onnx (input "OriginalInput" 1x3x224x224 RGB in 0..255; it
/// reorders the channels to BGR and subtracts a per-pixel ImageNet mean image, B/G/R about 103/116/123; output
/// "PreprocessedInput" feeds ResNet18.onnx input "Input247"; output "Pooling395_Output_0" 1x512x1x1):
/// gray images are replicated to 3 channels, images are resized to 224x224 by bilinear interpolation
/// (align_corners false) and scaled from [0, 1] to [0, 255]. The batch size is fixed at 1 by the models.
/// </remarks>
public sealed class ResNet18Featurizer : IFeatureExtractor, IDisposable
{
    /// <summary>Input side of the network.</summary>
    public const int InputSide = 224;
    readonly InferenceSession prep;
    readonly InferenceSession net;

    public string Name => "resnet18";
    public int Dimension => 512;

    /// <summary>Folder holding the two model folders by default: DnnImageModels/ beside the application.</summary>
    public static string DefaultModelDir => Path.Combine(AppContext.BaseDirectory, "DnnImageModels");

    /// <summary>Loads both models from <paramref name="modelDir"/> (default <see cref="DefaultModelDir"/>) with <paramref name="threads"/> intra-op threads (default 2).</summary>
    public ResNet18Featurizer(string? modelDir = null, int threads = 2)
    {
        var dir = modelDir ?? DefaultModelDir;
        var prepPath = Path.Combine(dir, "ResNetPrepOnnx", "ResNetPreprocess.onnx");
        var netPath = Path.Combine(dir, "ResNet18Onnx", "ResNet18.onnx");
        foreach (var p in new[] { prepPath, netPath })
            if (!File.Exists(p)) throw new FileNotFoundException($"ResNet18 model file missing: {p} (it is copied from the Microsoft.ML.DnnImageFeaturizer.ResNet18 package at build time)", p);
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        // No busy-waiting between runs: the machine is shared (training, other processes).
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        prep = new InferenceSession(prepPath, options);
        net = new InferenceSession(netPath, options);
    }

    /// <summary>Model input [N, 3, 224, 224] in 0..255 (RGB) for images [N, C, H, W] in [0, 1].</summary>
    public static Tensor Preprocess(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = images.to(float32);
        if (x.shape[1] == 1) x = x.expand(-1, 3, -1, -1);
        else if (x.shape[1] != 3) throw new ArgumentException("images must have 1 or 3 channels");
        if (x.shape[2] != InputSide || x.shape[3] != InputSide)
            x = nn.functional.interpolate(x, [InputSide, InputSide], mode: InterpolationMode.Bilinear, align_corners: false);
        return (x.clamp(0, 1) * 255f).contiguous().MoveToOuterDisposeScope();
    }

    public Tensor Extract(Tensor images)
    {
        const int chunk = 16;
        var n = images.shape[0];
        var result = new float[n * Dimension];
        var pixels = new float[3 * InputSide * InputSide];
        long[] shape = [1, 3, InputSide, InputSide];
        using var runOptions = new RunOptions();
        for (long s = 0; s < n; s += chunk)
        {
            using var scope = NewDisposeScope();
            var batch = Preprocess(images[(int)s..(int)Math.Min(s + chunk, n)]);
            for (long i = 0; i < batch.shape[0]; i++)
            {
                batch[i].data<float>().CopyTo(pixels, 0);
                using var input = OrtValue.CreateTensorValueFromMemory(pixels, shape);
                using var prepOut = prep.Run(runOptions, ["OriginalInput"], [input], ["PreprocessedInput"]);
                using var netOut = net.Run(runOptions, ["Input247"], [prepOut[0]], ["Pooling395_Output_0"]);
                netOut[0].GetTensorDataAsSpan<float>().CopyTo(result.AsSpan((int)((s + i) * Dimension), Dimension));
            }
        }
        return tensor(result, [n, Dimension]);
    }

    public void Dispose()
    {
        prep.Dispose();
        net.Dispose();
    }
}
