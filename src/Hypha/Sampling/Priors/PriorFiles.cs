using System.Text.Json;
using Hypha.Runs;
using static TorchSharp.torch;

namespace Hypha.Sampling.Priors;

/// <summary>What a fitted prior was fitted to and how long it took (the <c>fit</c> object of its file).</summary>
public sealed record PriorFit
{
    /// <summary>The checkpoint whose encoder made the latents, relative to the run folder.</summary>
    public string Checkpoint { get; init; } = "";

    /// <summary>When that checkpoint was written (a prior fitted to another checkpoint is refused).</summary>
    public DateTime CheckpointWrittenUtc { get; init; }

    /// <summary>The checkpoint's epoch to continue with and images seen.</summary>
    public int Epoch { get; init; }

    public long ImagesSeen { get; init; }

    /// <summary>Whether training had finished when the checkpoint was written.</summary>
    public bool TrainingComplete { get; init; }

    /// <summary>Latent vectors fitted to (posterior means of the training chunks encoded, times the symmetries of
    /// <see cref="Augment"/>) and training chunks in the run.</summary>
    public int Vectors { get; init; }

    /// <summary>The symmetries each chunk was encoded under: none (default; files written before it), flips or dihedral.</summary>
    public string Augment { get; init; } = "none";

    public int TrainChunks { get; init; }

    /// <summary>Seed of the subset of training chunks (when limited) and of the fit.</summary>
    public int Seed { get; init; }

    /// <summary>Seconds spent encoding the chunks and fitting the prior.</summary>
    public double EncodeSeconds { get; init; }

    public double FitSeconds { get; init; }

    public DateTime FittedUtc { get; init; }

    /// <summary>The device that encoded and fitted.</summary>
    public string Device { get; init; } = "";
}

/// <summary>A tensor in a prior's JSON file: name, shape and float32 values in row-major order, little-endian, base64.</summary>
public sealed record StoredTensor(string Name, long[] Shape, string Float32)
{
    public static StoredTensor From(string name, Tensor t)
    {
        using var values = t.detach().to(ScalarType.Float32, CPU).contiguous();
        var floats = values.data<float>().ToArray();
        var bytes = new byte[floats.Length * 4];
        Buffer.BlockCopy(floats, 0, bytes, 0, bytes.Length);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("prior files are written on little-endian machines");
        return new StoredTensor(name, values.shape, Convert.ToBase64String(bytes));
    }

    /// <summary>The values; an <see cref="InvalidDataException"/> when their count is not the shape's.</summary>
    public Tensor ToTensor()
    {
        var bytes = Convert.FromBase64String(Float32);
        var count = Shape.Aggregate(1L, (a, b) => a * b);
        if (bytes.Length != count * 4) throw new InvalidDataException($"{Name} holds {bytes.Length / 4} values, its shape [{string.Join(", ", Shape)}] wants {count}");
        var floats = new float[count];
        Buffer.BlockCopy(bytes, 0, floats, 0, bytes.Length);
        return tensor(floats).reshape(Shape);
    }
}

/// <summary>RUN/priors/gmm.json.</summary>
public sealed record GmmFile
{
    public int Format { get; init; } = PriorFiles.CurrentFormat;
    public string Kind { get; init; } = Models.LatentSamplers.Gmm;
    public int LatentSize { get; init; }
    public GmmOptions Options { get; init; } = new();
    public PriorFit Fit { get; init; } = new();
    public EmTrace Trace { get; init; } = new([], 0, false);

    /// <summary>Mean log-likelihood per vector (nats) of the same vectors under N(0, I), the prior the model trained with.</summary>
    public double StandardNormalLogLikelihood { get; init; }

    public double[] Weights { get; init; } = [];
    public double[][] Means { get; init; } = [];

    /// <summary>Full covariances [k][L][L] (covariance full), else null.</summary>
    public double[][][]? Covariances { get; init; }

    /// <summary>Variances [k][L] (covariance diag), else null.</summary>
    public double[][]? Variances { get; init; }
}

/// <summary>RUN/priors/latent-diffusion.json.</summary>
public sealed record LatentDiffusionFile
{
    public int Format { get; init; } = PriorFiles.CurrentFormat;
    public string Kind { get; init; } = Models.LatentSamplers.LatentDiffusion;
    public int LatentSize { get; init; }
    public LatentDiffusionOptions Options { get; init; } = new();
    public PriorFit Fit { get; init; } = new();

    /// <summary>Mean training loss over each hundredth of the steps.</summary>
    public IReadOnlyList<double> Loss { get; init; } = [];

    /// <summary>Per-dimension mean and standard deviation the latents were standardized with.</summary>
    public float[] Mean { get; init; } = [];
    public float[] Scale { get; init; } = [];

    /// <summary>The sampling (EMA) network's state dict.</summary>
    public IReadOnlyList<StoredTensor> Weights { get; init; } = [];
}

/// <summary>Reading and writing the fitted priors' JSON files (snake_case keys as config.json, written atomically).</summary>
public static class PriorFiles
{
    /// <summary>Layout version of the files; a newer one is refused.</summary>
    public const int CurrentFormat = 1;

    static readonly JsonSerializerOptions Json = new(ConfigJson.Options) { WriteIndented = false };

    public static void Write<T>(string path, T file)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.DeleteStaleTemps(path);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(file, Json));
    }

    /// <summary>The file at <paramref name="path"/>; a bad-run-folder error naming it when it cannot be read, is of another
    /// kind or a newer format. <paramref name="refit"/> is the command that fits it again.</summary>
    public static T Read<T>(string path, string kind, string refit) where T : class
    {
        T? file;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            var format = root.TryGetProperty("format", out var f) && f.TryGetInt32(out var v) ? v : 0;
            if (format > CurrentFormat)
                throw new HyphaException(ExitCode.BadCheckpoint, $"has prior format {format}, newer than this Hypha understands ({CurrentFormat}); update Hypha or refit with {refit}", path);
            if (!root.TryGetProperty("kind", out var k) || k.GetString() != kind)
                throw new HyphaException(ExitCode.BadCheckpoint, $"is not a {kind} prior; refit with {refit}", path);
            file = root.Deserialize<T>(Json);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NotSupportedException)
        {
            throw new HyphaException(ExitCode.BadCheckpoint, $"cannot be read ({e.Message.TrimEnd('.')}); refit with {refit}", path, e);
        }
        catch (IOException e)
        {
            throw new HyphaException(ExitCode.BadCheckpoint, $"cannot be read ({e.Message.TrimEnd('.')})", path, e);
        }
        return file ?? throw new HyphaException(ExitCode.BadCheckpoint, $"is empty; refit with {refit}", path);
    }

    /// <summary>Rows of a [rows, cols] float64 tensor.</summary>
    public static double[][] Rows(Tensor t)
    {
        using var c = t.to(ScalarType.Float64, CPU).contiguous();
        var all = c.data<double>().ToArray();
        var cols = (int)c.shape[^1];
        return Enumerable.Range(0, all.Length / Math.Max(1, cols)).Select(r => all.AsSpan(r * cols, cols).ToArray()).ToArray();
    }

    /// <summary>A [rows, cols] float64 tensor from rows of equal length; an <see cref="InvalidDataException"/> otherwise.</summary>
    public static Tensor FromRows(double[][] rows, int cols, string what)
    {
        if (rows.Any(r => r.Length != cols)) throw new InvalidDataException($"{what}: a row does not have {cols} values");
        return tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, cols], ScalarType.Float64);
    }
}
