namespace Hypha.Data;

/// <summary>One chunk: which normalized image, and the top-left corner in pixels.</summary>
public readonly record struct ChunkRef(int Image, int X, int Y);

/// <summary>The three parts of a dataset.</summary>
public enum DataSplit : byte { Train, Validation, Test }
