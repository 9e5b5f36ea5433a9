namespace Hypha.Data;

/// <summary>How chunks are divided into train, validation and test without overlapping chunks on two sides.</summary>
public enum SplitMode
{
    /// <summary><see cref="Images"/> with at least <see cref="SplitPlan.MinFilesForImageSplit"/> source files, else <see cref="Regions"/>.</summary>
    Auto,
    /// <summary>Whole source files go to one part (pages of one file stay together).</summary>
    Images,
    /// <summary>Each image is cut along its longer axis into disjoint train / validation / test bands; chunks that straddle a band edge are dropped.</summary>
    Regions,
    /// <summary>Random chunks, as the thesis (Table 3.1). Overlapping chunks land on both sides: the test score is optimistic.</summary>
    Chunks,
}
