using System.Globalization;
using System.Text.Json;
using Hypha.Imaging;

namespace Hypha.Runs;

/// <summary>One input file as a run saw it.</summary>
/// <param name="Path">Absolute path, as the walk of <c>--images</c> reached it.</param>
/// <param name="Size">Bytes.</param>
/// <param name="Sha256">SHA-256 of the bytes, lower-case hex.</param>
/// <param name="ModifiedUtc">Last write time; when size and time are unchanged the file is taken as unchanged without
/// hashing it again (as git and rsync do); when the time differs the hash decides.</param>
public sealed record InputFile(string Path, long Size, string Sha256, DateTime ModifiedUtc);

/// <summary>
/// What a run trained on, kept in <c>RUN/inputs.json</c> (written atomically when a run starts): every file its
/// <c>--images</c> listed, with absolute paths, sizes and content hashes. <c>train --resume</c>, <c>evaluate</c>,
/// <c>reconstruct</c>, <c>report</c> and <c>baseline</c> re-read the run's images; they first compare them with this
/// record and refuse, listing the files added, removed and changed, when they differ: the same config would otherwise
/// give another dataset and another split (a resumed run would train on data it was not trained on, and evaluate would
/// score on a test part that overlaps the old training part).
/// </summary>
public sealed record InputManifest(int Format, IReadOnlyList<InputFile> Files)
{
    /// <summary>Layout version of inputs.json: 1.</summary>
    public const int CurrentFormat = 1;

    /// <summary>The record of <paramref name="paths"/> (absolute): sizes, times and SHA-256 hashes.</summary>
    public static InputManifest Of(IEnumerable<string> paths) =>
        new(CurrentFormat, paths.Order(StringComparer.Ordinal).Select(Describe).ToList());

    static InputFile Describe(string path)
    {
        var info = new FileInfo(path);
        return new InputFile(System.IO.Path.GetFullPath(path), info.Length, FileWalk.Hash(path), info.LastWriteTimeUtc);
    }

    public void Write(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, ConfigJson.Options));

    /// <summary>The record in <paramref name="path"/>, or null when the run has none (made by an earlier Hypha).</summary>
    public static InputManifest? Read(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<InputManifest>(File.ReadAllText(path), ConfigJson.Options)
                   ?? throw new JsonException("empty");
        }
        catch (JsonException e)
        {
            throw new HyphaException(ExitCode.BadCheckpoint, $"the record of the run's inputs is not valid ({e.Message}); restore it from a backup or delete it to skip the check", path, e);
        }
    }

    /// <summary>The files added, removed and changed between this record and what <paramref name="images"/> lists now.
    /// Roots that no longer exist list nothing (their files show as removed).</summary>
    public (IReadOnlyList<string> Added, IReadOnlyList<string> Removed, IReadOnlyList<string> Changed) Compare(IEnumerable<string> images)
    {
        var now = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var input in images)
        {
            try
            {
                var (files, duplicates) = ImageFiles.ExpandUnique([input]);
                foreach (var f in files.Concat(duplicates.Select(d => d.Path))) now.Add(System.IO.Path.GetFullPath(f));
            }
            catch (HyphaException e) when (e.Code is ExitCode.BadInput or ExitCode.InvalidConfig) { } // a root that is gone
        }
        var known = Files.ToDictionary(f => f.Path, StringComparer.Ordinal);
        var added = now.Where(f => !known.ContainsKey(f)).ToList();
        var removed = new List<string>();
        var changed = new List<string>();
        foreach (var f in Files)
        {
            var info = new FileInfo(f.Path);
            if (!info.Exists) { removed.Add(f.Path); continue; }
            if (info.Length != f.Size)
                changed.Add($"{f.Path} ({f.Size.ToString("N0", CultureInfo.InvariantCulture)} -> {info.Length.ToString("N0", CultureInfo.InvariantCulture)} bytes)");
            else if (info.LastWriteTimeUtc != f.ModifiedUtc && FileWalk.Hash(f.Path) != f.Sha256)
                changed.Add($"{f.Path} (same size, other bytes)");
        }
        return (added, removed, changed);
    }

    /// <summary>Throws (exit 3) listing the differences when <paramref name="images"/> no longer lists what this record holds.</summary>
    public void Verify(IEnumerable<string> images, string runFolder)
    {
        var (added, removed, changed) = Compare(images);
        if (added.Count + removed.Count + changed.Count == 0) return;
        static IEnumerable<string> List(string what, IReadOnlyList<string> files) =>
            files.Take(10).Select(f => $"  {what}: {f}").Concat(files.Count > 10 ? [$"  ... and {files.Count - 10} more {what}"] : []);
        var counts = string.Join(", ", new[] { (added.Count, "added"), (removed.Count, "removed"), (changed.Count, "changed") }
            .Where(c => c.Item1 > 0).Select(c => $"{c.Item1} {c.Item2}"));
        throw new HyphaException(ExitCode.BadInput,
            $"the run's images changed since it was trained ({counts}): they would give another dataset and split than the run was trained on; " +
            $"restore them (inputs.json in the run folder lists each file with its size and SHA-256) or start a new run\n" +
            string.Join("\n", List("added", added).Concat(List("removed", removed)).Concat(List("changed", changed))), runFolder);
    }
}
