using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Models.ProgressiveVae;

/// <summary>
/// The thesis's progressive VAE (proVAE, section 3.4): the ResNet-18 VAE grown from 7x7 to the chunk size one block
/// pair at a time, each new block faded in (<see cref="ProgressiveEncoder"/>, <see cref="ProgressiveDecoder"/>). All
/// blocks are built up front, so the state dict is the same at every stage; the stage and alpha live in the buffer
/// <c>progress</c> ([stage, alpha], float64), so a loaded checkpoint is at the position it was saved at (what
/// <c>hypha sample</c> uses), and the trainer re-derives them from the images shown with <see cref="Advance"/>.
/// A new model starts at stage 0, alpha 1. Its loss is <see cref="VaeLoss"/>, whose discriminator and perceptual
/// network work at the chunk size (smaller stages upsampled to it).
/// </summary>
public sealed class ProgressiveVae : VaeModel, IProgressiveModel
{
    readonly ProgressiveEncoder encoder;
    readonly ProgressiveDecoder decoder;
    readonly VaeLoss _loss;
    readonly Dictionary<string, Tensor> _toRgb;

    public ProgressiveVaeOptions Options { get; }

    /// <summary>The images-seen to (stage, alpha) mapping this model follows.</summary>
    public ProgressiveSchedule Schedule { get; }

    /// <summary>The loss settings (beta, KL warm-up); default a plain VAE.</summary>
    public VaeOptions LossSettings { get; }

    public ProgressiveVae(ProgressiveVaeOptions options, VaeOptions? loss = null) : base(nameof(ProgressiveVae))
    {
        options.Validate();
        Options = options;
        LossSettings = loss ?? new ProVaeOptions { Width = options.Width, Latent = options.Latent, Progressive = options.Progressive };
        var p = options.Progressive;
        Schedule = new ProgressiveSchedule(options.Stages, p.StartResolution, p.EpochsPerStage, p.FadeImages);
        encoder = new ProgressiveEncoder(options);
        decoder = new ProgressiveDecoder(options);
        RegisterComponents();
        register_buffer("progress", tensor(new[] { 0.0, 1.0 }, dtype: ScalarType.Float64));
        _toRgb = named_parameters().Where(p => p.name.StartsWith("decoder.to_rgb.", StringComparison.Ordinal) && p.name.EndsWith(".weight", StringComparison.Ordinal))
            .ToDictionary(p => p.name, p => (Tensor)p.parameter);
        _loss = new VaeLoss(LossSettings, options.Channels, options.Resolution);
    }

    public override string Kind => ProgressiveVaeDescriptor.Key;
    public override int Channels => Options.Channels;
    public override int Resolution => Options.ResolutionAt(Stage);
    public override int LatentSize => Options.Latent;
    public int Stages => Options.Stages;
    public int EpochsPerStage => Options.Progressive.EpochsPerStage;
    public int Stage => Read().Stage;
    public double Alpha => Read().Alpha;

    public IReadOnlyDictionary<string, double> Extras
    {
        get
        {
            var (stage, alpha) = Read();
            return new Dictionary<string, double> { ["stage"] = stage, ["alpha"] = alpha, ["resolution"] = Options.ResolutionAt(stage) };
        }
    }

    public void Advance(long imagesSeen, long imagesPerEpoch)
    {
        var at = Schedule.At(imagesSeen, imagesPerEpoch);
        SetPosition(at.Stage, at.Alpha);
    }

    /// <summary>Puts the model at a stage and alpha directly (tests, tools).</summary>
    public void SetPosition(int stage, double alpha)
    {
        if (stage < 0 || stage >= Stages) throw new ArgumentOutOfRangeException(nameof(stage), $"stage must be in 0..{Stages - 1} (got {stage})");
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(alpha), $"alpha must be in [0, 1] (got {alpha})");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var buffer = ProgressBuffer();
        buffer.copy_(tensor(new[] { stage, stage == 0 ? 1.0 : alpha }, dtype: ScalarType.Float64));
    }

    public override (Tensor Mu, Tensor LogVar) Encode(Tensor x)
    {
        encoder.Position = Read();
        return encoder.forward(x);
    }

    public override Tensor Decode(Tensor z)
    {
        decoder.Position = Read();
        return decoder.forward(z);
    }

    /// <summary>As <see cref="VaeMath.Loss"/>; with <see cref="ProgressiveOptions.ScaleReconstruction"/> the optimized
    /// loss weights the reconstruction by (chunk / resolution)^2 (the reported terms are unchanged).</summary>
    public override LossTerms Loss(Tensor x, LossContext context)
    {
        var factor = Options.Progressive.ScaleReconstruction ? Math.Pow((double)Options.Resolution / x.shape[^1], 2) : 1;
        return VaeLossOf(x, context, LossSettings.BetaAt(context.ImagesSeen), factor, LastLayer);
    }

    /// <summary>The to-image layer of the current output: the newest stage's, or during a fade at alpha 0 the previous one's.</summary>
    Tensor LastLayer()
    {
        var (stage, alpha) = Read();
        return _toRgb[$"decoder.to_rgb.{(stage > 0 && alpha <= 0 ? stage - 1 : stage)}.weight"];
    }

    protected override VaeLoss LossFunction => _loss;

    /// <summary>Float elements alive while the decoder decodes one latent at the current stage, an estimate: each
    /// stage's feature maps eight times over (its blocks' temporaries), plus the images of a fade.</summary>
    protected override long DecoderElements()
    {
        long sum = 0;
        for (var s = 0; s <= Stage; s++) sum += 8L * Options.ChannelsAt(s) * Options.ResolutionAt(s) * Options.ResolutionAt(s);
        return sum + 4L * Channels * Resolution * Resolution;
    }


    Tensor ProgressBuffer() => named_buffers().First(b => b.name == "progress").buffer;

    (int Stage, double Alpha) Read()
    {
        using var scope = NewDisposeScope();
        var v = ProgressBuffer().detach().to(CPU).to_type(ScalarType.Float64).data<double>().ToArray();
        return ((int)Math.Round(v[0]), v[1]);
    }
}
