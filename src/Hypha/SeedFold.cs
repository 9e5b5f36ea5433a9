namespace Hypha;

/// <summary>
/// Seeds are 64-bit (<c>--seed</c> takes any int64), but <see cref="System.Random"/> takes a 32-bit one. A seed inside
/// the int32 range is passed as it is, so splits and data orders of runs made before seeds were 64-bit stay the same;
/// a larger one is mixed (SplitMix64's finalizer) down to 32 bits, so seeds that differ only in their high bits get
/// different streams.
/// </summary>
public static class SeedFold
{
    public static int ToInt32(long seed)
    {
        if (seed is >= int.MinValue and <= int.MaxValue) return (int)seed;
        unchecked
        {
            var z = (ulong)seed + 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return (int)(uint)z;
        }
    }
}
