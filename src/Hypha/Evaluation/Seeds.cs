using static TorchSharp.torch;

namespace Hypha.Evaluation;

/// <summary>Seeded random generators: each metric mixes the evaluation seed with its own salt, so metrics draw independent streams.</summary>
public static class Seeds
{
    /// <summary>A CPU generator seeded from <paramref name="seed"/> and a per-use <paramref name="salt"/>.</summary>
    public static Generator Generator(long seed, long salt)
    {
        unchecked
        {
            var s = (ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)salt * 0xC2B2AE3D27D4EB4FUL;
            s ^= s >> 31;
            return new Generator(s & 0x7FFF_FFFF_FFFF_FFFFUL);
        }
    }
}
