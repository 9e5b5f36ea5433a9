using Hypha.Imaging;

namespace Hypha.Data;

/// <summary>A file that could not be used, and why.</summary>
public sealed record BadImage(string Path, string Problem);

/// <summary>Normalized images in memory plus the chunk index over them: everything training needs from disk.</summary>
public sealed record PreparedData(IReadOnlyList<NormalizedImage> Images, ChunkIndex Index, IReadOnlyList<BadImage> Skipped, int Channels, int ChunkSize);
