namespace Hypha.Imaging;

/// <summary>Brings a <see cref="RawImage"/> to the channel count of a <see cref="ChannelMode"/>.</summary>
public static class ChannelConversion
{
    public static RawImage To(this RawImage image, ChannelMode mode)
    {
        var want = mode.Count();
        if (image.Channels == want) return image;
        int n = image.Width * image.Height;
        var px = image.Pixels;
        if (want == 1)
        {
            var y = new float[n];
            for (var i = 0; i < n; i++) y[i] = 0.299f * px[i] + 0.587f * px[n + i] + 0.114f * px[2 * n + i];
            return image with { Channels = 1, Pixels = y };
        }
        var rgb = new float[3 * n];
        for (var k = 0; k < 3; k++) Array.Copy(px, 0, rgb, k * n, n);
        return image with { Channels = 3, Pixels = rgb };
    }
}
