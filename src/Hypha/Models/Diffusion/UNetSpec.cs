namespace Hypha.Models.Diffusion;

/// <summary>The shape of a <see cref="UNet"/>: image channels and side, base width, channel multipliers per level,
/// residual blocks per level, resolutions with self-attention and the dropout rate.</summary>
public sealed record UNetSpec(int Channels, int Resolution, int Width, IReadOnlyList<int> Mult, int ResBlocks,
    IReadOnlyList<int> AttentionResolutions, double Dropout = 0)
{
    /// <summary>Levels (one per multiplier).</summary>
    public int Levels => Mult.Count;

    /// <summary>Sides the U-Net takes: multiples of 2^(levels-1), at least that.</summary>
    public int SizeStep => 1 << (Levels - 1);

    /// <summary>Channels at level <paramref name="i"/>.</summary>
    public int ChannelsAt(int i) => Width * Mult[i];

    /// <summary>Throws a configuration error when the U-Net cannot be built or cannot take the image side.</summary>
    public void Validate()
    {
        if (Channels < 1) throw HyphaException.Config($"image channels must be at least 1 (got {Channels})");
        if (Width < 2 || Width % 2 != 0) throw HyphaException.Config($"diffusion width must be even and at least 2 (got {Width}): the timestep embedding has width/2 frequencies");
        if (Mult.Count < 1) throw HyphaException.Config("channel multipliers cannot be empty");
        if (Mult.Any(m => m < 1)) throw HyphaException.Config($"channel multipliers must be at least 1 (got {string.Join(",", Mult)})");
        if (ResBlocks < 1) throw HyphaException.Config($"res blocks per level must be at least 1 (got {ResBlocks})");
        if (!(Dropout >= 0 && Dropout < 1)) throw HyphaException.Config($"dropout must be in [0, 1) (got {Dropout})");
        if (Levels > 12) throw HyphaException.Config($"at most 12 U-Net levels (got {Levels})");
        var step = SizeStep;
        if (Resolution < step || Resolution % step != 0)
        {
            var examples = string.Join(", ", Enumerable.Range(1, 4).Select(k => k * step));
            throw HyphaException.Config(
                $"the diffusion U-Net with {Levels} levels (channel multipliers {string.Join(",", Mult)}) needs a chunk size that is a multiple of {step} " +
                $"(2^{Levels - 1}, one halving per level after the first), at least {step}: {examples}, ...; got {Resolution}");
        }
    }
}
