using Hypha.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Evaluation;

/// <summary>
/// Everything one evaluation looks at. Images are CPU float32 tensors [N, C, H, W] in [0, 1] (C = 1 or 3), all
/// of the same C, H and W. Tensors passed in stay owned by the caller; tensors this object creates (the test
/// halves of <see cref="FromTestSplit"/>, cached features) are owned by it and freed by <see cref="Dispose"/>.
/// </summary>
/// <remarks>
/// Sample-based metrics compare <see cref="Samples"/> with <see cref="TestRealA"/> and report as floor the same
/// metric between <see cref="TestRealB"/> and <see cref="TestRealA"/>, two disjoint sets of real chunks. Give as
/// many samples as <see cref="TestRealB"/> holds: FD, KID subsets and PRDC depend on the set sizes.
/// </remarks>
public sealed class EvaluationInputs : IDisposable
{
    readonly List<Tensor> owned = [];
    readonly Dictionary<(string Extractor, ImageSet Set), Tensor> features = [];

    /// <summary>Real chunks of the training split (memorization compares samples against these).</summary>
    public required Tensor TrainReal { get; init; }

    /// <summary>Real test chunks, first half: the reference set.</summary>
    public required Tensor TestRealA { get; init; }

    /// <summary>Real test chunks, second half, disjoint from <see cref="TestRealA"/>: the floor's stand-in for samples.</summary>
    public required Tensor TestRealB { get; init; }

    /// <summary>Images sampled from the model; null skips the sample-based metrics.</summary>
    public Tensor? Samples { get; init; }

    /// <summary>Test chunks that were reconstructed; pairs index by index with <see cref="Reconstructions"/>.</summary>
    public Tensor? Originals { get; init; }

    /// <summary>The model's reconstructions of <see cref="Originals"/>; null skips psnr and ssim.</summary>
    public Tensor? Reconstructions { get; init; }

    /// <summary>The model, for likelihood metrics (iwae_bits_per_dim, which need <see cref="ILikelihoodModel"/>); null skips them.</summary>
    public IGenerativeModel? Model { get; init; }

    /// <summary>Seed of every random choice a metric makes (patches, directions, subsets, pairs, latent draws). Default 0.</summary>
    public long Seed { get; init; }

    /// <summary>
    /// Splits <paramref name="test"/> into two disjoint halves by a permutation drawn from <paramref name="seed"/>
    /// (A gets the extra chunk when the count is odd). The halves are owned by the returned object.
    /// </summary>
    public static EvaluationInputs FromTestSplit(Tensor train, Tensor test, long seed = 0, Tensor? samples = null,
        Tensor? originals = null, Tensor? reconstructions = null, IGenerativeModel? model = null)
    {
        var n = test.shape[0];
        if (n < 2) throw new ArgumentException("need at least 2 test chunks to split", nameof(test));
        Tensor a, b;
        using (NewDisposeScope())
        {
            using var gen = Seeds.Generator(seed, 0x5e11);
            var perm = randperm(n, dtype: int64, generator: gen);
            var half = (n + 1) / 2;
            a = test.index_select(0, perm[..(int)half]).contiguous().DetachFromDisposeScope();
            b = test.index_select(0, perm[(int)half..]).contiguous().DetachFromDisposeScope();
        }
        var inputs = new EvaluationInputs
        {
            TrainReal = train, TestRealA = a, TestRealB = b, Samples = samples, Originals = originals,
            Reconstructions = reconstructions, Model = model, Seed = seed,
        };
        inputs.owned.Add(a);
        inputs.owned.Add(b);
        return inputs;
    }

    /// <summary>The tensor of an image set, or null when it was not given.</summary>
    public Tensor? Get(ImageSet set) => set switch
    {
        ImageSet.TrainReal => TrainReal,
        ImageSet.TestRealA => TestRealA,
        ImageSet.TestRealB => TestRealB,
        ImageSet.Samples => Samples,
        _ => throw new ArgumentOutOfRangeException(nameof(set)),
    };

    /// <summary>Number of images in a set (0 when absent).</summary>
    public int Count(ImageSet set) => (int)(Get(set)?.shape[0] ?? 0);

    /// <summary>
    /// Features [N, D] (float32, CPU) of an image set in <paramref name="extractor"/>'s space, computed once per
    /// extractor name and set and owned by this object (do not dispose them).
    /// </summary>
    public Tensor Features(IFeatureExtractor extractor, ImageSet set)
    {
        if (features.TryGetValue((extractor.Name, set), out var cached)) return cached;
        var images = Get(set) ?? throw new InvalidOperationException($"image set {set} was not given");
        var f = extractor.Extract(images).DetachFromDisposeScope();
        features[(extractor.Name, set)] = f;
        return f;
    }

    /// <summary>Checks the shapes of every given image set; throws on mismatch.</summary>
    public void Validate()
    {
        var reference = TrainReal;
        Check(reference, nameof(TrainReal), reference);
        Check(TestRealA, nameof(TestRealA), reference);
        Check(TestRealB, nameof(TestRealB), reference);
        if (Samples is not null) Check(Samples, nameof(Samples), reference);
        if ((Originals is null) != (Reconstructions is null))
            throw new ArgumentException("give both Originals and Reconstructions, or neither");
        if (Originals is not null && Reconstructions is not null)
        {
            Check(Originals, nameof(Originals), reference);
            Check(Reconstructions, nameof(Reconstructions), reference);
            if (Originals.shape[0] != Reconstructions.shape[0])
                throw new ArgumentException("Originals and Reconstructions differ in count");
        }
    }

    static void Check(Tensor t, string name, Tensor reference)
    {
        if (t.dim() != 4) throw new ArgumentException($"{name} must be [N, C, H, W], got [{string.Join(", ", t.shape)}]");
        if (t.shape[1] is not (1 or 3)) throw new ArgumentException($"{name} must have 1 or 3 channels");
        if (t.shape[1] != reference.shape[1] || t.shape[2] != reference.shape[2] || t.shape[3] != reference.shape[3])
            throw new ArgumentException($"{name} is [{string.Join(", ", t.shape)}], unlike TrainReal [{string.Join(", ", reference.shape)}]");
        if (t.dtype != float32) throw new ArgumentException($"{name} must be float32");
    }

    /// <summary>Frees the tensors this object created (test halves from <see cref="FromTestSplit"/>, cached features).</summary>
    public void Dispose()
    {
        foreach (var f in features.Values) f.Dispose();
        features.Clear();
        foreach (var t in owned) t.Dispose();
        owned.Clear();
    }
}
