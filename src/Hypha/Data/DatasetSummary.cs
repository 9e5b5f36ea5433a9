using System.Text.Json;
using Hypha.Runs;

namespace Hypha.Data;

/// <summary>What dataset.json in a run folder records: per image, chunks cut and kept and per part; skipped files; the split.</summary>
/// <param name="Shares">Validation and test shares asked for and obtained (absent in files of earlier versions).</param>
/// <param name="Stacks">Files recognised as planes of one stack, kept in one part.</param>
/// <param name="NormalizedBytes">Memory the normalized images take (float32).</param>
public sealed record DatasetSummary(
    string SplitMode, string SplitReason, int Train, int Validation, int Test,
    IReadOnlyList<ImageChunkCounts> Images, IReadOnlyList<BadImage> Skipped,
    SplitShares? Shares = null, IReadOnlyList<PlaneStack>? Stacks = null, long NormalizedBytes = 0)
{
    public static DatasetSummary From(PreparedData data) => new(
        JsonNamingPolicy.SnakeCaseLower.ConvertName(data.Index.SplitMode.ToString()), data.Index.SplitReason,
        data.Index.Train.Count, data.Index.Validation.Count, data.Index.Test.Count, data.Index.PerImage, data.Skipped,
        data.Index.Shares, data.Index.Stacks, data.NormalizedBytes);

    public void Write(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, ConfigJson.Options));

    public static DatasetSummary? Read(string path) =>
        File.Exists(path) ? JsonSerializer.Deserialize<DatasetSummary>(File.ReadAllText(path), ConfigJson.Options) : null;
}
