using Hypha.Imaging;
using Hypha.Runs;
using static TorchSharp.torch;

namespace Hypha.Evaluation;

/// <summary>
/// The memorization check's closest sample / training-chunk pairs as PNG files, written by <c>hypha evaluate</c>
/// into the evaluation's folder (closest_NN_sample.png and closest_NN_train.png, NN in the order of
/// <see cref="MetricResult.ClosestPairs"/>, closest first) so that <c>hypha report</c> can show them side by side
/// without recomputing anything.
/// </summary>
public static class ClosestPairImages
{
    /// <summary>File name of the sample of pair <paramref name="i"/>.</summary>
    public static string SampleFile(int i) => $"closest_{i:D2}_sample.png";

    /// <summary>File name of the training chunk of pair <paramref name="i"/>.</summary>
    public static string TrainFile(int i) => $"closest_{i:D2}_train.png";

    /// <summary>Writes both images of every pair; indices refer to <paramref name="samples"/> and <paramref name="train"/> ([N, C, H, W] in [0, 1]).</summary>
    public static void Write(string dir, IReadOnlyList<NearestPair> pairs, Tensor samples, Tensor train)
    {
        Directory.CreateDirectory(dir);
        for (var i = 0; i < pairs.Count; i++)
        {
            using var s = samples[pairs[i].SampleIndex];
            using var t = train[pairs[i].TrainIndex];
            AtomicFile.WriteAllBytes(Path.Combine(dir, SampleFile(i)), ImageEncoding.Encode(s, ImageFormat.Png8));
            AtomicFile.WriteAllBytes(Path.Combine(dir, TrainFile(i)), ImageEncoding.Encode(t, ImageFormat.Png8));
        }
    }

    /// <summary>The PNG bytes of each pair found in <paramref name="dir"/>, in order, stopping at the first missing one.</summary>
    public static List<(byte[] Sample, byte[] Train)> Read(string dir, int count)
    {
        var result = new List<(byte[], byte[])>();
        for (var i = 0; i < count; i++)
        {
            var s = Path.Combine(dir, SampleFile(i));
            var t = Path.Combine(dir, TrainFile(i));
            if (!File.Exists(s) || !File.Exists(t)) break;
            result.Add((File.ReadAllBytes(s), File.ReadAllBytes(t)));
        }
        return result;
    }
}
