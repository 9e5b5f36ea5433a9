using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using Hypha.Models.Layers;

namespace Hypha.Models.Diffusion;

/// <summary>
/// The DDPM-style U-Net (Ho et al. 2020): sinusoidal timestep embedding and MLP, <c>conv_in</c>, a down path of
/// <see cref="ResBlock"/>s (with <see cref="AttentionBlock"/>s at the attention resolutions) and strided-conv
/// downsampling, a middle ResBlock-attention-ResBlock, an up path that concatenates the skips, and
/// GroupNorm-SiLU-<c>conv_out</c> (zero-initialized, so a new network predicts 0). forward(x_t [B, C, H, W], t int64
/// [B]) returns [B, C, H, W] in the autocast dtype. Parameter names are listed in docs/model-diffusion.md and match
/// bench/pytorch/unet.py.
/// </summary>
public sealed class UNet : Module<Tensor, Tensor, Tensor>
{
    // Declared in forward order: RegisterComponents registers fields in declaration order, which is the state dict's.
    readonly AutocastConv2d conv_in;
    readonly TimeMlp time_mlp;
    readonly ModuleList<DownLevel> down;
    readonly Mid mid;
    readonly ModuleList<UpLevel> up;
    readonly GroupNorm32 norm_out;
    readonly AutocastConv2d conv_out;
    readonly int _width;

    public UNetSpec Spec { get; }

    public UNet(UNetSpec spec) : base(nameof(UNet))
    {
        spec.Validate();
        Spec = spec;
        _width = spec.Width;
        long tembDim = 4L * spec.Width;
        var attn = spec.AttentionResolutions.ToHashSet();
        conv_in = new AutocastConv2d(spec.Channels, spec.Width, 3, padding: 1);
        time_mlp = new TimeMlp(spec.Width, tembDim);

        var skips = new Stack<long>();
        skips.Push(spec.Width);
        long ch = spec.Width;
        var downLevels = new List<DownLevel>();
        for (var i = 0; i < spec.Levels; i++)
        {
            var res = spec.Resolution >> i;
            long outCh = spec.ChannelsAt(i);
            var level = new DownLevel(ch, outCh, tembDim, spec.ResBlocks, attn.Contains(res), i < spec.Levels - 1, spec.Dropout);
            for (var j = 0; j < spec.ResBlocks; j++) skips.Push(outCh);
            if (i < spec.Levels - 1) skips.Push(outCh);
            ch = outCh;
            downLevels.Add(level);
        }
        down = nn.ModuleList(downLevels.ToArray());
        mid = new Mid(ch, tembDim, spec.Dropout);

        var upLevels = new UpLevel[spec.Levels];
        for (var i = spec.Levels - 1; i >= 0; i--)
        {
            var res = spec.Resolution >> i;
            long outCh = spec.ChannelsAt(i);
            var ins = new long[spec.ResBlocks + 1];
            for (var j = 0; j <= spec.ResBlocks; j++)
            {
                ins[j] = ch + skips.Pop();
                ch = outCh;
            }
            upLevels[i] = new UpLevel(ins, outCh, tembDim, attn.Contains(res), i > 0, spec.Dropout);
        }
        up = nn.ModuleList(upLevels);
        norm_out = new GroupNorm32(ch);
        conv_out = new AutocastConv2d(ch, spec.Channels, 3, padding: 1);
        ZeroInit(conv_out);
        RegisterComponents();
    }

    /// <summary>Sinusoidal embedding [B, dim] of timesteps [B]: cat(sin(t f), cos(t f)), f = exp(-ln(10000) k / half), k &lt; half.</summary>
    public static Tensor TimestepEmbedding(Tensor t, int dim)
    {
        using var scope = NewDisposeScope();
        var half = dim / 2;
        var freqs = exp(arange(half, ScalarType.Float32, t.device) * (-Math.Log(10000.0) / half));
        var args = t.to_type(ScalarType.Float32).unsqueeze(1) * freqs.unsqueeze(0);
        return cat([sin(args), cos(args)], 1).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor x, Tensor t)
    {
        // Every intermediate is disposed as soon as its consumer has run, as Python's reference counting frees it: a
        // scope over the whole forward would keep every activation of the network alive until the end, which under
        // no_grad (sampling) doubles the peak memory. Tensors that backward needs are held by autograd meanwhile.
        using var scope = NewDisposeScope();
        Tensor temb;
        using (var embedding = TimestepEmbedding(t, _width)) temb = time_mlp.forward(embedding);
        var h = conv_in.forward(x);
        var skips = new Stack<Tensor>();
        skips.Push(h);
        foreach (var level in down) h = level.Forward(h, temb, skips);
        h = mid.forward(h, temb);
        for (var i = up.Count - 1; i >= 0; i--) h = up[i].Forward(h, temb, skips);
        h = Consume(h, norm_out.forward);
        h = Consume(h, v => nn.functional.silu(v));
        h = Consume(h, conv_out.forward);
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>f(input), then disposes input (unless f returned the very same object).</summary>
    internal static Tensor Consume(Tensor input, Func<Tensor, Tensor> f)
    {
        var output = f(input);
        ConsumeProbe?.Invoke();
        if (!ReferenceEquals(output, input)) input.Dispose();
        return output;
    }

    /// <summary>Called inside every <see cref="Consume"/> while input and output are both alive (the forward's busiest
    /// moments), on this thread only: a test counts live tensors there. Null, and free, otherwise.</summary>
    [ThreadStatic] internal static Action? ConsumeProbe;

    /// <summary>Sets a convolution's weight and bias to zero.</summary>
    internal static void ZeroInit(Module module)
    {
        using var _ = no_grad();
        foreach (var p in module.parameters()) p.zero_();
    }

    sealed class TimeMlp : Module<Tensor, Tensor>
    {
        readonly AutocastLinear linear1, linear2;

        public TimeMlp(long width, long dim) : base(nameof(TimeMlp))
        {
            linear1 = new AutocastLinear(width, dim);
            linear2 = new AutocastLinear(dim, dim);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var h = Consume(Consume(linear1.forward(x), v => nn.functional.silu(v)), linear2.forward);
            return h.MoveToOuterDisposeScope();
        }
    }

    sealed class DownLevel : Module
    {
        readonly ModuleList<ResBlock> res;
        readonly ModuleList<AttentionBlock>? attn;
        readonly AutocastConv2d? downsample;

        public DownLevel(long inCh, long outCh, long tembDim, int blocks, bool attention, bool downsampleAfter, double dropout) : base(nameof(DownLevel))
        {
            var r = new ResBlock[blocks];
            for (var j = 0; j < blocks; j++) r[j] = new ResBlock(j == 0 ? inCh : outCh, outCh, tembDim, dropout);
            res = nn.ModuleList(r);
            register_module("res", res);
            if (attention)
            {
                attn = nn.ModuleList(Enumerable.Range(0, blocks).Select(_ => new AttentionBlock(outCh)).ToArray());
                register_module("attn", attn);
            }
            if (downsampleAfter)
            {
                downsample = new AutocastConv2d(outCh, outCh, 3, stride: 2, padding: 1);
                register_module("downsample", downsample);
            }
        }

        /// <summary>The level's blocks on h (owned by <paramref name="skips"/>); each block's output is pushed there too.</summary>
        public Tensor Forward(Tensor h, Tensor temb, Stack<Tensor> skips)
        {
            for (var j = 0; j < res.Count; j++)
            {
                h = res[j].forward(h, temb);
                if (attn is not null) h = Consume(h, attn[j].forward);
                skips.Push(h);
            }
            if (downsample is not null)
            {
                h = downsample.forward(h);
                skips.Push(h);
            }
            return h;
        }
    }

    sealed class Mid : Module<Tensor, Tensor, Tensor>
    {
        readonly ResBlock res1, res2;
        readonly AttentionBlock attn;

        public Mid(long ch, long tembDim, double dropout) : base(nameof(Mid))
        {
            res1 = new ResBlock(ch, ch, tembDim, dropout);
            attn = new AttentionBlock(ch);
            res2 = new ResBlock(ch, ch, tembDim, dropout);
            register_module("res1", res1);
            register_module("attn", attn);
            register_module("res2", res2);
        }

        /// <summary>res2(attn(res1(h))); h stays the caller's, the intermediates are disposed.</summary>
        public override Tensor forward(Tensor h, Tensor temb) =>
            Consume(Consume(res1.forward(h, temb), attn.forward), a => res2.forward(a, temb));
    }

    sealed class UpLevel : Module
    {
        readonly ModuleList<ResBlock> res;
        readonly ModuleList<AttentionBlock>? attn;
        readonly AutocastConv2d? upsample;

        public UpLevel(long[] ins, long outCh, long tembDim, bool attention, bool upsampleAfter, double dropout) : base(nameof(UpLevel))
        {
            res = nn.ModuleList(ins.Select(i => new ResBlock(i, outCh, tembDim, dropout)).ToArray());
            register_module("res", res);
            if (attention)
            {
                attn = nn.ModuleList(ins.Select(_ => new AttentionBlock(outCh)).ToArray());
                register_module("attn", attn);
            }
            if (upsampleAfter)
            {
                upsample = new AutocastConv2d(outCh, outCh, 3, padding: 1);
                register_module("upsample", upsample);
            }
        }

        /// <summary>The level's blocks on h and the skips they pop; takes ownership of h and of each popped skip.</summary>
        public Tensor Forward(Tensor h, Tensor temb, Stack<Tensor> skips)
        {
            for (var j = 0; j < res.Count; j++)
            {
                Tensor joined;
                using (var s = skips.Pop())
                using (var cast = s.to_type(h.dtype))
                    joined = cat([h, cast], 1);
                h.Dispose();
                var block = res[j];
                h = Consume(joined, c => block.forward(c, temb));
                if (attn is not null) h = Consume(h, attn[j].forward);
            }
            if (upsample is not null)
            {
                h = Consume(h, x => nn.functional.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest));
                h = Consume(h, upsample.forward);
            }
            return h;
        }
    }
}
