using System.Globalization;
using System.Text;
using Hypha.Imaging;
using Hypha.Runs;

namespace Hypha.Sampling;

/// <summary>One image file (or one slice of a TIFF stack) that <c>hypha sample</c> or <c>hypha augment</c> wrote.</summary>
public sealed record ManifestRow
{
    /// <summary>The file, relative to the output folder, with '/' separators.</summary>
    public required string Path { get; init; }

    /// <summary>The slice within a TIFF stack, from 0; null for a file of one image.</summary>
    public int? Page { get; init; }

    /// <summary><c>real</c> (a chunk cut from the run's images) or <c>synthetic</c> (sampled from its model).</summary>
    public required string Kind { get; init; }

    /// <summary>Real chunks: the part of the run's split they are from (train, validation, test); empty for synthetic ones.</summary>
    public string Split { get; init; } = "";

    /// <summary>The class folder (<c>hypha augment --class</c>); empty for <c>hypha sample</c>.</summary>
    public string Class { get; init; } = "";

    /// <summary>Real chunks: the source image file, its page, and the chunk's top-left corner in pixels.</summary>
    public string SourceImage { get; init; } = "";
    public int? SourcePage { get; init; }
    public int? X { get; init; }
    public int? Y { get; init; }

    /// <summary>Synthetic: the image's index in the seeded sequence (image i depends only on seed and i). Real: its
    /// position in the run's list of that part's chunks.</summary>
    public required int Index { get; init; }

    /// <summary>Synthetic: the seed and the sampler as the model resolved it (<see cref="Models.IGenerativeModel.DescribeSampler"/>).</summary>
    public long? Seed { get; init; }
    public string Sampler { get; init; } = "";

    /// <summary>The run folder's name and the SHA-256 of the checkpoint the model was read from.</summary>
    public required string Run { get; init; }
    public required string CheckpointSha256 { get; init; }
}

/// <summary>What identifies the model a set was made with: the run folder's name and the SHA-256 (hex) of the
/// checkpoint file its weights were read from.</summary>
public sealed record SampleProvenance(string Run, string CheckpointSha256)
{
    /// <summary>Hashes <paramref name="run"/>'s checkpoints/last.ckpt.</summary>
    public static SampleProvenance Of(RunFolder run) => new(System.IO.Path.GetFileName(run.Root), FileWalk.Hash(run.LastCheckpoint));

    /// <summary>
    /// Loads the run's model (<see cref="Training.TrainingSession.LoadModel"/>) and the hash of exactly the checkpoint
    /// it read: when training replaces last.ckpt meanwhile (its size or time changes), it loads again, up to 3 times.
    /// </summary>
    public static (RunConfig Config, Models.IGenerativeModel Model, TorchSharp.torch.Device Device, SampleProvenance Provenance) Load(RunFolder run, string? device)
    {
        for (var attempt = 1; ; attempt++)
        {
            var before = Stamp(run.LastCheckpoint);
            var provenance = File.Exists(run.LastCheckpoint) ? Of(run) : null;
            var (config, model, dev) = Training.TrainingSession.LoadModel(run, device); // a missing checkpoint fails here, by name
            if (Stamp(run.LastCheckpoint) == before && provenance is not null) return (config, model, dev, provenance);
            model.Dispose();
            if (attempt == 3)
                throw new HyphaException(ExitCode.BadCheckpoint, "was replaced three times while it was read (a training run is writing it): try again between checkpoints", run.LastCheckpoint);
        }
    }

    static (long, DateTime) Stamp(string path)
    {
        var f = new FileInfo(path);
        return f.Exists ? (f.Length, f.LastWriteTimeUtc) : (-1, default);
    }
}

/// <summary>
/// The manifest CSV of a written set (<c>manifest.csv</c> of <c>hypha sample</c>, <c>manifest-CLASS.csv</c> of
/// <c>hypha augment</c>): one row per image, RFC 4180 quoting, '.' decimals, LF line ends. Its text is a function of
/// the set alone (the run, the checkpoint, the seed, the count, the format, the sampler, the class), never of the
/// shard or the time, so every job of a sharded set writes the same bytes and can tell whether a folder holds its set.
/// </summary>
public static class Manifest
{
    public const string Header = "path,page,kind,split,class,source_image,source_page,x,y,index,seed,sampler,run,checkpoint_sha256";

    public static string Format(IEnumerable<ManifestRow> rows)
    {
        var s = new StringBuilder(Header).Append('\n');
        foreach (var r in rows)
        {
            string[] fields =
            [
                r.Path, Num(r.Page), r.Kind, r.Split, r.Class, r.SourceImage, Num(r.SourcePage), Num(r.X), Num(r.Y), Num(r.Index),
                r.Seed?.ToString(CultureInfo.InvariantCulture) ?? "", r.Sampler, r.Run, r.CheckpointSha256,
            ];
            s.AppendJoin(',', fields.Select(Quote)).Append('\n');
        }
        return s.ToString();
    }

    /// <summary>Reads a manifest this class wrote; a bad-input error naming the file and line for anything else.</summary>
    public static IReadOnlyList<ManifestRow> Read(string path) => FromText(File.ReadAllText(path), path);

    /// <summary>The rows of a manifest's text; <paramref name="path"/> names it in errors.</summary>
    public static IReadOnlyList<ManifestRow> FromText(string text, string path = "manifest")
    {
        var lines = ParseCsv(text);
        if (lines.Count == 0 || string.Join(',', lines[0]) != Header)
            throw HyphaException.Input(path, $"is not a Hypha manifest (its first line is not '{Header}')");
        var rows = new List<ManifestRow>();
        for (var i = 1; i < lines.Count; i++)
        {
            var f = lines[i];
            if (f.Count != 14) throw HyphaException.Input(path, $"line {i + 1} has {f.Count} fields, not 14");
            rows.Add(new ManifestRow
            {
                Path = f[0], Page = Int(f[1]), Kind = f[2], Split = f[3], Class = f[4], SourceImage = f[5], SourcePage = Int(f[6]),
                X = Int(f[7]), Y = Int(f[8]), Index = Int(f[9]) ?? -1, Seed = f[10].Length == 0 ? null : long.Parse(f[10], CultureInfo.InvariantCulture),
                Sampler = f[11], Run = f[12], CheckpointSha256 = f[13],
            });
        }
        return rows;
    }

    static string Num(int? v) => v?.ToString(CultureInfo.InvariantCulture) ?? "";

    static int? Int(string s) => s.Length == 0 ? null : int.Parse(s, CultureInfo.InvariantCulture);

    static string Quote(string s) => s.AsSpan().IndexOfAny(",\"\r\n") < 0 ? s : "\"" + s.Replace("\"", "\"\"") + "\"";

    static List<List<string>> ParseCsv(string text)
    {
        var lines = new List<List<string>>();
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var ch = text[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else if (ch == '"') quoted = false;
                else field.Append(ch);
            }
            else if (ch == '"') quoted = true;
            else if (ch == ',') { fields.Add(field.ToString()); field.Clear(); }
            else if (ch == '\n')
            {
                fields.Add(field.ToString());
                field.Clear();
                lines.Add(fields);
                fields = [];
            }
            else if (ch != '\r') field.Append(ch);
        }
        if (field.Length > 0 || fields.Count > 0) { fields.Add(field.ToString()); lines.Add(fields); }
        return lines;
    }
}
