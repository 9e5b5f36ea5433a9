namespace Hypha.Training;

/// <summary>Numeric precision of the forward and backward passes.</summary>
public enum Precision
{
    /// <summary>Everything in float32 (default).</summary>
    Fp32,
    /// <summary>Convolutions and linear layers compute in bfloat16 on fp32 master weights; batch norm statistics,
    /// the loss and the optimizer stay fp32 (see <see cref="Models.Layers.Autocast"/>).</summary>
    Bf16,
}

/// <summary>How the learning rate moves during training.</summary>
public enum LrSchedule
{
    /// <summary>The same rate throughout (default, the thesis).</summary>
    Constant,
    /// <summary>Cosine decay from the rate to zero over the whole run: the last epochs average out step noise, so short
    /// runs end on a settled model.</summary>
    Cosine,
}

/// <summary>Memory layout of activations and convolution weights.</summary>
public enum Layout
{
    /// <summary>Channels-last on CUDA (cuDNN's fast kernels want it), channels-first on the CPU (default). libtorch 2.10's
    /// CPU convolutions gave wrong weight gradients channels-last on an AVX2-only AMD EPYC (the stem's and the 1x1
    /// stride-2 shortcuts' of the ResNet VAE, errors of 3% to 100%, and glibc heap-corruption aborts), though they were
    /// right, and 15-20% faster at chunk 224, on an AVX-512 Zen 4: docs/decisions.md.</summary>
    Auto,
    /// <summary>Channels-first, PyTorch's default.</summary>
    Nchw,
    /// <summary>Channels-last, made with strides since TorchSharp has no memory-format API. On the CPU only to compare
    /// speed: see <see cref="Auto"/> for the wrong gradients measured there.</summary>
    Nhwc,
}

/// <summary>How to train. Defaults are the thesis's (section 3.6.1) where it states them.</summary>
public sealed record TrainOptions
{
    /// <summary>Passes over the training chunks; default 90 (thesis).</summary>
    public int Epochs { get; init; } = 90;
    /// <summary>Chunks per step; default 64.</summary>
    public int Batch { get; init; } = 64;
    /// <summary>Adam learning rate; default 5e-4 (thesis).</summary>
    public double Lr { get; init; } = 5e-4;
    /// <summary>Label-preserving augmentation of training batches; default <see cref="Data.Augment.None"/> (the thesis).</summary>
    public Data.Augment Augment { get; init; } = Data.Augment.None;

    /// <summary>Default <see cref="LrSchedule.Constant"/>.</summary>
    public LrSchedule LrSchedule { get; init; } = LrSchedule.Constant;

    /// <summary>The learning rate after <paramref name="imagesSeen"/> of <paramref name="totalImages"/> training images.</summary>
    public double LrAt(long imagesSeen, long totalImages) => LrSchedule == LrSchedule.Cosine && totalImages > 0
        ? Lr * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1.0, (double)imagesSeen / totalImages)))
        : Lr;

    /// <summary>Seeds the split, the data order, initialization and sampling; any 64-bit integer, default 0.</summary>
    public long Seed { get; init; }
    /// <summary>auto (CUDA if available), cpu, cuda or cuda:N; default auto.</summary>
    public string Device { get; init; } = "auto";
    /// <summary>Chunks per epoch, drawn without replacement from the training part; 0 (default) uses all of them.</summary>
    public int EpochSize { get; init; }
    /// <summary>CPU threads for libtorch; 0 (default) uses every core.</summary>
    public int Threads { get; init; }
    /// <summary>Clip the gradient norm to this value; 0 (default) does not clip.</summary>
    public double GradClip { get; init; }
    /// <summary>Stop after this many NaN or Inf losses in a row (each such step is skipped); default 20.</summary>
    public int MaxBadSteps { get; init; } = 20;
    /// <summary>Stop after this many minutes of training in this process (checkpointed, resumable with --resume, as a
    /// cluster job's time limit wants); 0 (default) trains until the epochs are done.</summary>
    public double TimeLimit { get; init; }
    /// <summary>Write a metrics row every this many steps; default 20.</summary>
    public int LogEvery { get; init; } = 20;
    /// <summary>Also checkpoint every this many steps inside an epoch; 0 (default) checkpoints at epoch ends only.</summary>
    public int CheckpointEvery { get; init; }
    /// <summary>Validation chunks scored each epoch (the first ones of the part); default 1000, 0 for all.</summary>
    public int ValLimit { get; init; } = 1000;
    /// <summary>Default <see cref="Precision.Fp32"/>.</summary>
    public Precision Precision { get; init; } = Precision.Fp32;
    /// <summary>Default <see cref="Layout.Auto"/>.</summary>
    public Layout Layout { get; init; } = Layout.Auto;

    /// <summary>The <see cref="Models.Layers.Autocast"/> policy these options ask for on <paramref name="device"/>.</summary>
    public IDisposable ComputeScope(TorchSharp.torch.Device device) => Models.Layers.Autocast.Enter(
        Precision == Precision.Bf16 ? TorchSharp.torch.ScalarType.BFloat16 : TorchSharp.torch.ScalarType.Float32, ChannelsLastOn(device));

    /// <summary>Whether convolutions run channels-last on <paramref name="device"/>: always for <see cref="Layout.Nhwc"/>,
    /// on CUDA only for <see cref="Layout.Auto"/>, never for <see cref="Layout.Nchw"/>.</summary>
    public bool ChannelsLastOn(TorchSharp.torch.Device device) =>
        Layout == Layout.Nhwc || (Layout == Layout.Auto && device.type == TorchSharp.DeviceType.CUDA);

    public void Validate()
    {
        if (Epochs < 0) throw HyphaException.Config($"epochs cannot be negative (got {Epochs})");
        if (Batch < 1) throw HyphaException.Config($"batch must be at least 1 (got {Batch})");
        if (!(Lr > 0) || double.IsInfinity(Lr)) throw HyphaException.Config($"learning rate must be positive (got {Lr})");
        if (EpochSize < 0) throw HyphaException.Config($"epoch size cannot be negative (got {EpochSize})");
        if (Threads < 0) throw HyphaException.Config($"threads cannot be negative (got {Threads})");
        if (GradClip < 0) throw HyphaException.Config($"gradient clip cannot be negative (got {GradClip})");
        if (MaxBadSteps < 1) throw HyphaException.Config($"max bad steps must be at least 1 (got {MaxBadSteps})");
        if (LogEvery < 1) throw HyphaException.Config($"log interval must be at least 1 (got {LogEvery})");
        if (CheckpointEvery < 0) throw HyphaException.Config($"checkpoint interval cannot be negative (got {CheckpointEvery})");
        if (!(TimeLimit >= 0) || double.IsInfinity(TimeLimit)) throw HyphaException.Config($"time limit must be 0 (none) or a positive number of minutes (got {TimeLimit})");
        Torch.DeviceSelector.Validate(Device);
    }
}
