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

    /// <summary>
    /// Appends <paramref name="record"/> as one line to <paramref name="path"/>, creating the file and its folder if needed.
    /// When the file's last line was torn (a write cut off, no final newline), the record starts on a fresh line so that
    /// it stays readable; the torn line is set aside by <see cref="ReadAll"/>.
    /// </summary>
    public static void Append(string path, EvaluationRecord record)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        using var f = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        var fresh = true;
        if (f.Length > 0)
        {
            f.Seek(-1, SeekOrigin.End);
            fresh = f.ReadByte() == '\n';
        }
        f.Seek(0, SeekOrigin.End);
        var bytes = System.Text.Encoding.UTF8.GetBytes((fresh ? "" : "\n") + Serialize(record) + "\n");
        f.Write(bytes);
        f.Flush(flushToDisk: true);
    }

    /// <summary>
    /// Every record in <paramref name="path"/>, in file order, read line by line (blank lines skipped). A line that is
    /// not a record, such as a last line torn by a write that was cut off, is set aside with a warning to
    /// <paramref name="warn"/> naming the file and the line, and the other records are returned.
    /// </summary>
    public static IReadOnlyList<EvaluationRecord> ReadAll(string path, Action<string>? warn = null)
    {
        var text = File.ReadAllText(path);
        var lines = text.Split('\n');
        var records = new List<EvaluationRecord>();
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (string.IsNullOrWhiteSpace(line)) continue;
            var last = i == lines.Length - 1; // no newline after it
            try
            {
                records.Add(Deserialize(line));
            }
            catch (JsonException e)
            {
                warn?.Invoke(last
                    ? $"{path}: line {i + 1} is torn (a write was cut off after {line.Length} characters); set aside"
                    : $"{path}: line {i + 1} is not a record ({e.Message.Split('\n')[0].TrimEnd('.')}); set aside");
            }
        }
        return records;
    }
}
