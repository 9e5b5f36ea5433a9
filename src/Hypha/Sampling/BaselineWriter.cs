using System.Runtime.InteropServices;
using Hypha.Data;
using Hypha.Evaluation;
using Hypha.Imaging;
using Hypha.Runs;
using OpenCvSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Sampling;

/// <summary>What <c>hypha baseline</c> writes.</summary>
public enum BaselineKind
{
    /// <summary>Training chunks, each under a random non-identity dihedral transform (rotation by 90/180/270 degrees, or a mirror): "augment by flipping".</summary>
    Flips,
    /// <summary>Training chunks as they are: "copy the training set" (memorization must flag them).</summary>
    Copies,
    /// <summary>Test half B exactly as <c>hypha evaluate</c> uses it for the same seed and test limit: scored as samples it reproduces the floors.</summary>
    Test,
}

/// <summary>File formats of baseline images.</summary>
public enum BaselineFormat
{
    /// <summary>8-bit PNG (default).</summary>
    Png8,
    /// <summary>16-bit TIFF.</summary>
    Tiff16,
    /// <summary>32-bit float TIFF: the chunks' values bit for bit.</summary>
    Tiff32,
}

/// <summary>
/// <c>hypha baseline</c>: folders of images that stand for generators people use, made from a run's own chunks, to be
/// scored with <c>hypha evaluate --samples</c>. Chunks come from the training subset <c>hypha evaluate</c> uses for
/// the same <c>--seed</c> and <c>--train-limit</c>, so that copies are in the set memorization searches.
/// </summary>
public static class BaselineWriter
{
    /// <summary>The dihedral transforms other than the identity, in the order the seed picks from.</summary>
    public static readonly string[] Transforms = ["rot90", "rot180", "rot270", "flip_h", "flip_v", "transpose", "antitranspose"];

    /// <summary>Transform <paramref name="t"/> (index into <see cref="Transforms"/>) of a [C, H, W] image.</summary>
    public static Tensor Apply(Tensor chw, int t) => t switch
    {
        0 => chw.rot90(1, (1, 2)),
        1 => chw.rot90(2, (1, 2)),
        2 => chw.rot90(3, (1, 2)),
        3 => chw.flip(2),
        4 => chw.flip(1),
        5 => chw.transpose(1, 2),
        6 => chw.rot90(2, (1, 2)).transpose(1, 2),
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <summary>File extension of a format.</summary>
    public static string Extension(this BaselineFormat f) => f == BaselineFormat.Png8 ? ".png" : ".tif";

    /// <summary>
    /// Writes <paramref name="count"/> images (ignored for <see cref="BaselineKind.Test"/>, which writes all of half B)
    /// as baseline_000000.EXT... into <paramref name="outDir"/>. Seeded by <paramref name="seed"/>; a non-empty folder
    /// is refused unless <paramref name="overwrite"/>, which first deletes the baseline_* images already there (other files stay). Returns the files written.
    /// </summary>
    public static IReadOnlyList<string> Write(RunFolder run, BaselineKind kind, int count, string outDir, long seed = 0,
        BaselineFormat format = BaselineFormat.Png8, int trainLimit = 2000, int testLimit = 1000, bool overwrite = false,
        Action<string>? log = null)
    {
        if (kind != BaselineKind.Test && count < 1) throw HyphaException.Config($"--count must be at least 1 (got {count})");
        if (trainLimit < 0) throw HyphaException.Config($"--train-limit must be 0 (all) or positive, got {trainLimit}");
        if (testLimit is < 0 or 1 or 2 or 3) throw HyphaException.Config($"--test-limit must be 0 (all) or at least 4, got {testLimit}");
        if (!File.Exists(run.ConfigPath))
            throw new HyphaException(ExitCode.BadCheckpoint, "has no config.json: not a Hypha run folder", run.Root);
        OutputFolder.Prepare(outDir, overwrite); // refuse before reading the images
        using var data = RunData.Open(run, log);
        // A samples folder is scored whole: with --overwrite, an earlier baseline's images go, so none is left mixed in.
        foreach (var old in Directory.EnumerateFiles(outDir, "baseline_*").Where(ImageFiles.IsImage).ToList()) File.Delete(old);
        using var output = OutputFolder.Begin(outDir, overwrite: true);
        using var scope = NewDisposeScope();
        Tensor images;
        int[] transforms = [];
        if (kind == BaselineKind.Test)
        {
            var test = data.Cut(data.TestSubset(testLimit, seed));
            using var inputs = EvaluationInputs.FromTestSplit(test, test, seed);
            images = inputs.TestRealB.clone();
        }
        else
        {
            var pool = data.TrainSubset(trainLimit, seed);
            if (pool.Count == 0) throw new HyphaException(ExitCode.BadInput, "the run's training part is empty", run.Root);
            using var gen = Seeds.Generator(seed, kind == BaselineKind.Flips ? 0xF11B : 0xC09E);
            // Without replacement while the pool lasts, then again through a fresh permutation.
            var picks = new List<ChunkRef>(count);
            while (picks.Count < count)
            {
                using var perm = randperm(pool.Count, dtype: int64, generator: gen);
                picks.AddRange(perm.data<long>().ToArray().Take(count - picks.Count).Select(i => pool[(int)i]));
            }
            if (count > pool.Count) log?.Invoke($"note: {count:N0} images from {pool.Count:N0} training chunks: some are used more than once");
            images = data.Cut(picks);
            if (kind == BaselineKind.Flips)
            {
                using var t = randint(0, Transforms.Length, [count], dtype: int64, generator: gen);
                transforms = t.data<long>().ToArray().Select(v => (int)v).ToArray();
            }
        }
        var written = new List<string>();
        for (var i = 0; i < images.shape[0]; i++)
        {
            using var inner = NewDisposeScope();
            var x = images[i];
            if (transforms.Length > 0) x = Apply(x, transforms[i]).contiguous();
            var path = Path.Combine(outDir, $"baseline_{i:D6}{format.Extension()}");
            AtomicFile.WriteAllBytes(path, Encode(x, format));
            written.Add(path);
        }
        output.Commit();
        return written;
    }

    /// <summary>A [C, H, W] image in [0, 1] as file bytes; <see cref="BaselineFormat.Tiff32"/> keeps the float values exactly.</summary>
    public static byte[] Encode(Tensor chw, BaselineFormat format)
    {
        if (format == BaselineFormat.Png8) return ImageEncoding.Encode(chw, ImageFormat.Png8);
        if (format == BaselineFormat.Tiff16) return ImageEncoding.Encode(chw, ImageFormat.Tiff16);
        using var scope = NewDisposeScope();
        var x = chw.detach().to(CPU).to_type(ScalarType.Float32);
        int c = (int)x.shape[0], h = (int)x.shape[1], w = (int)x.shape[2];
        if (c == 3) x = x.flip(0); // OpenCV expects BGR
        var values = x.permute(1, 2, 0).contiguous().data<float>().ToArray();
        using var mat = new Mat(h, w, MatType.CV_32FC(c));
        Marshal.Copy(values, 0, mat.Data, values.Length);
        if (!Cv2.ImEncode(".tif", mat, out var encoded))
            throw new InvalidOperationException($"OpenCV could not encode a {w}x{h} float TIFF");
        return encoded;
    }
}
