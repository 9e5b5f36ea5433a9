using System.Globalization;
using System.Text;

namespace Hypha.Training.Observers;

/// <summary>
/// Appends rows to metrics.csv, flushed per row so a killed run keeps them. Columns: epoch, step, global_step,
/// images_seen, phase, then the model's loss terms in its family's order (<see cref="Models.ModelDescriptor.TermsFor"/>),
/// then images_per_s, elapsed_s, skipped_steps and any extra columns (a progressive VAE's stage). On resume, rows newer
/// than the checkpoint (written after it, then lost with the kill) are dropped first, so the file has no duplicated steps.
/// </summary>
public sealed class MetricsCsvObserver : ITrainingObserver
{
    static readonly string[] Leading = ["epoch", "step", "global_step", "images_seen", "phase"];
    static readonly string[] Trailing = ["images_per_s", "elapsed_s", "skipped_steps"];

    StreamWriter? _writer;
    string[] _terms = [];
    string[] _extras = [];

    /// <summary>Reads a metrics.csv back as rows of column name to text (for plots and reports).</summary>
    public static List<Dictionary<string, string>> Read(string path)
    {
        var rows = new List<Dictionary<string, string>>();
        if (!File.Exists(path)) return rows;
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) return rows;
        var header = lines[0].Split(',');
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(',');
            if (cells.Length != header.Length) continue; // a line cut by a kill
            rows.Add(header.Zip(cells).ToDictionary(p => p.First, p => p.Second));
        }
        return rows;
    }

    public void OnStart(TrainingContext context, CheckpointHeader? resumedFrom)
    {
        _terms = context.Descriptor.TermsFor(context.Config.Model).Select(t => t.Name).ToArray();
        var path = context.Run.MetricsCsv;
        if (File.Exists(path) && resumedFrom is not null)
        {
            var lines = File.ReadAllLines(path);
            var header = lines.Length > 0 ? lines[0].Split(',') : [];
            var seenCol = Array.IndexOf(header, "images_seen");
            var keep = lines.Take(1).Concat(lines.Skip(1).Where(l =>
            {
                var cells = l.Split(',');
                return cells.Length == header.Length && long.TryParse(cells[seenCol], out var seen) && seen <= resumedFrom.ImagesSeen;
            })).ToList();
            Runs.AtomicFile.WriteAllText(path, string.Join('\n', keep) + (keep.Count > 0 ? "\n" : ""));
            var trailingAt = Array.IndexOf(header, Trailing[^1]);
            if (trailingAt > 0)
            {
                _terms = header[Leading.Length..(trailingAt - Trailing.Length + 1)];
                _extras = header[(trailingAt + 1)..];
            }
        }
        else if (File.Exists(path)) File.Delete(path);
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false));
    }

    public void OnMetrics(MetricsRow row)
    {
        if (_writer is null) return;
        if (_writer.BaseStream.Length == 0)
        {
            _extras = row.Extras?.Keys.Order().ToArray() ?? [];
            _writer.WriteLine(string.Join(',', Leading.Concat(_terms).Concat(Trailing).Concat(_extras)));
        }
        var cells = new List<string> { I(row.Epoch), I(row.Step), I(row.GlobalStep), I(row.ImagesSeen), row.Phase };
        cells.AddRange(_terms.Select(k => row.Terms.TryGetValue(k, out var v) ? F(v) : ""));
        cells.AddRange([F(row.ImagesPerSecond), F(row.ElapsedSeconds), I(row.SkippedSteps)]);
        cells.AddRange(_extras.Select(k => row.Extras is not null && row.Extras.TryGetValue(k, out var v) ? F(v) : ""));
        _writer.WriteLine(string.Join(',', cells));
        _writer.Flush();
    }

    public void OnEpochEnd(int epoch, TrainingContext context) { }

    public void Dispose() => _writer?.Dispose();

    static string I(long v) => v.ToString(CultureInfo.InvariantCulture);
    static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
}
