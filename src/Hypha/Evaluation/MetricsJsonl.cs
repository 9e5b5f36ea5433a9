using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hypha.Evaluation;

/// <summary>
/// Reads and appends metrics.jsonl: one JSON object per line, one line per evaluation (an
/// <see cref="EvaluationRecord"/>), snake_case property names, NaN and infinities written as strings.
/// </summary>
public static class MetricsJsonl
{
    /// <summary>The serializer options of the file format.</summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = false,
    };

    /// <summary>The record as one line of JSON (no newline).</summary>
    public static string Serialize(EvaluationRecord record) => JsonSerializer.Serialize(record, Options);

    /// <summary>Parses one line.</summary>
    public static EvaluationRecord Deserialize(string line) =>
        JsonSerializer.Deserialize<EvaluationRecord>(line, Options) ?? throw new JsonException("empty record");

    /// <summary>Appends <paramref name="record"/> as one line to <paramref name="path"/>, creating the file and its folder if needed.</summary>
    public static void Append(string path, EvaluationRecord record)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.AppendAllText(path, Serialize(record) + "\n");
    }

    /// <summary>Every record in <paramref name="path"/>, in file order (blank lines skipped).</summary>
    public static IReadOnlyList<EvaluationRecord> ReadAll(string path) =>
        File.ReadLines(path).Where(l => !string.IsNullOrWhiteSpace(l)).Select(Deserialize).ToList();
}
