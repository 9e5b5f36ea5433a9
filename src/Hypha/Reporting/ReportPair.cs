namespace Hypha.Reporting;

/// <summary>A sample and its nearest training chunk, for the memorization section.</summary>
/// <param name="Sample">PNG of the sample.</param>
/// <param name="Train">PNG of the nearest training chunk.</param>
/// <param name="Distance">RMS pixel difference between them, on the [0, 1] intensity scale.</param>
public sealed record ReportPair(byte[] Sample, byte[] Train, double Distance);
