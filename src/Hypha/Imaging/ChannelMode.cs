namespace Hypha.Imaging;

/// <summary>How colour is handled. <see cref="Gray"/> (the thesis) converts by luminance; <see cref="Rgb"/> keeps three channels.</summary>
public enum ChannelMode
{
    /// <summary>One channel: Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601, as PIL's "L" and OpenCV).</summary>
    Gray,
    /// <summary>Three channels; gray images are repeated into R, G and B.</summary>
    Rgb,
}

/// <summary>Channel counts of a <see cref="ChannelMode"/>.</summary>
public static class ChannelModeExtensions
{
    public static int Count(this ChannelMode mode) => mode == ChannelMode.Gray ? 1 : 3;
}
