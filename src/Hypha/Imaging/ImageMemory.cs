namespace Hypha.Imaging;

/// <summary>What the images will take in memory, estimated from their headers before any pixel is read.</summary>
/// <param name="NormalizedBytes">The normalized images (float32, the run's channels, the selected pages), which stay
/// in memory while Hypha works.</param>
/// <param name="PeakBytes">The most held at once while reading: every normalized image plus the working set of the
/// largest file being read (<see cref="ImageMemory.Reading"/>).</param>
/// <param name="Largest">The file whose reading needs the most, and that amount.</param>
public sealed record ImageMemoryEstimate(long NormalizedBytes, long PeakBytes, string? Largest, long LargestBytes);

/// <summary>
/// Memory estimates of images from their headers (<see cref="ImageHeaderInfo.Shapes"/>), so that a 16000 x 16000 PNG of
/// 1.8 MB, which decodes to 256 megapixels, is seen before it is decoded. The figures follow
/// <see cref="ImageReader.Read"/> and <see cref="Normalization"/>: OpenCV decodes every page of a file at its
/// on-disk depth, each selected page becomes float32 (channels as read, alpha dropped), and a page at a time passes
/// first through a float32 copy of all its samples and their split planes, then through the channel conversion, a
/// sorted copy (percentiles) and the normalized result, float32 in the run's channels: for an 8-bit RGB JPEG read as
/// gray, 39 bytes a pixel at the peak (3 decoded, 12 + 12 for the float copy and its planes, 12 for the image).
/// </summary>
public static class ImageMemory
{
    /// <summary>The normalized pages of one file in <paramref name="channels"/> channels, in bytes.</summary>
    public static long Normalized(ImageHeaderInfo header, PageSelection pages, int channels) =>
        header.Shapes.Where((_, i) => pages.Includes(i)).Sum(s => s.Pixels * channels * 4L);

    /// <summary>What reading one file holds at its peak, besides the images normalized before it, in bytes.</summary>
    public static long Reading(ImageHeaderInfo header, PageSelection pages, int channels)
    {
        var shapes = header.Shapes;
        if (shapes.Count == 0) return 0;
        long decoded = shapes.Sum(s => s.Pixels * s.Samples * ((s.BitsPerSample + 7) / 8L));
        long raw = shapes.Where((_, i) => pages.Includes(i)).Sum(s => s.Pixels * (s.Samples >= 3 ? 3 : 1) * 4L);
        // One page at a time: first a float32 copy of its samples and their split planes, then (those freed) the channel
        // conversion, the sorted copy percentiles need and the normalized result.
        long perPage = shapes.Max(s => s.Pixels * Math.Max(2L * s.Samples, 3L * channels) * 4L);
        return decoded + raw + perPage;
    }

    /// <summary>The estimate over <paramref name="files"/>: every normalized image, plus the largest single file's reading.</summary>
    public static ImageMemoryEstimate Estimate(IEnumerable<(string Path, ImageHeaderInfo Header)> files, PageSelection pages, int channels)
    {
        long normalized = 0, largestBytes = 0;
        string? largest = null;
        foreach (var (path, header) in files)
        {
            normalized += Normalized(header, pages, channels);
            var reading = Reading(header, pages, channels);
            if (reading > largestBytes) (largest, largestBytes) = (path, reading);
        }
        return new ImageMemoryEstimate(normalized, normalized + largestBytes, largest, largestBytes);
    }
}
