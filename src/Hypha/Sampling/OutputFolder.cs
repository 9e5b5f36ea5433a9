using Hypha.Runs;

namespace Hypha.Sampling;

/// <summary>Guards folders that sample and reconstruct write into: existing files are never overwritten unless asked.</summary>
public static class OutputFolder
{
    /// <summary>
    /// <see cref="Prepare"/>s <paramref name="path"/> and returns a guard: disposed without <see cref="Output.Commit"/>
    /// (an error or a full disk midway), it removes the files written since, and the folder if it created it, so a
    /// failed run leaves no half-written output. Files that were there before are left alone.
    /// </summary>
    public static Output Begin(string path, bool overwrite)
    {
        var existed = Directory.Exists(path);
        Prepare(path, overwrite);
        return new Output(path, existed, existed ? Directory.EnumerateFiles(path).ToHashSet() : [], trackedOnly: false);
    }

    /// <summary>
    /// Joins the folder of a set that several jobs write at once (<c>--shard K/N</c>): <paramref name="manifest"/>
    /// names the set's manifest file and <paramref name="text"/> is its content, the same in every job of the set.
    /// A folder that is new or empty (hidden temporary files of atomic writes aside) gets the manifest at once, so the
    /// next job recognizes it; one that holds this very manifest is joined; anything else is refused unless
    /// <paramref name="overwrite"/>, which then writes the manifest over. The guard removes only files this job
    /// created (never another job's, never the manifest). <paramref name="occupied"/> says whether the set's place
    /// holds files when it has no manifest; default: the folder holds anything (a samples folder is one set's).
    /// </summary>
    public static Output Join(string path, bool overwrite, string manifest, string text, Func<bool>? occupied = null)
    {
        var existed = Directory.Exists(path);
        EnsureWritable(path);
        var manifestPath = Path.Combine(path, manifest);
        var current = File.Exists(manifestPath) ? File.ReadAllText(manifestPath) : null;
        if (current != text && !overwrite)
        {
            if (current is not null)
                throw new HyphaException(ExitCode.OutputError, $"the output folder holds another set ({manifest} differs: another run, checkpoint, seed, count, " +
                                                               "format, sampler or class); every job of a sharded set needs the same options; choose another folder or pass --overwrite", path);
            if (occupied?.Invoke() ?? Visible(path).Any())
                throw new HyphaException(ExitCode.OutputError, $"the output folder already holds files but no {manifest} of this set; choose an empty folder or pass --overwrite", path);
        }
        if (current != text) AtomicFile.WriteAllText(manifestPath, text);
        return new Output(path, existed, [], trackedOnly: true);
    }

    /// <summary>After a sharded job: fails when <paramref name="manifest"/> no longer holds <paramref name="text"/>
    /// (another set was started in the folder meanwhile); writes it again when a failed job's clean-up removed it.</summary>
    public static void ConfirmJoined(string path, string manifest, string text)
    {
        var manifestPath = Path.Combine(path, manifest);
        if (!File.Exists(manifestPath)) AtomicFile.WriteAllText(manifestPath, text);
        else if (File.ReadAllText(manifestPath) != text)
            throw new HyphaException(ExitCode.OutputError, $"another set was started in the output folder while this job ran ({manifest} changed); " +
                                                           "its files and this job's are now mixed: write each set into its own folder", path);
    }

    /// <summary>Entries of <paramref name="path"/> other than hidden temporary files (<c>.NAME.PID.tmp</c>) of atomic writes.</summary>
    public static IEnumerable<string> Visible(string path) =>
        Directory.EnumerateFileSystemEntries(path).Where(e => !(Path.GetFileName(e).StartsWith('.') && e.EndsWith(".tmp", StringComparison.Ordinal)));

    /// <summary>See <see cref="Begin"/>.</summary>
    public sealed class Output(string path, bool existed, HashSet<string> before, bool trackedOnly) : IDisposable
    {
        bool _committed;
        readonly List<string> _files = [];
        readonly List<string> _folders = [];

        /// <summary>The folder's path.</summary>
        public string Root => path;

        /// <summary>Records that <paramref name="file"/> is about to be written: if it does not exist yet, a failed
        /// run removes it again (files in subfolders, and every file of a sharded job, are only removed this way).</summary>
        public string Claim(string file)
        {
            if (!File.Exists(file)) _files.Add(Path.GetFullPath(file));
            return file;
        }

        /// <summary>Creates the subfolder <paramref name="dir"/> (and its parents) if missing; a failed run removes the
        /// ones it created, if empty.</summary>
        public string Folder(string dir)
        {
            var full = Path.GetFullPath(dir);
            var missing = new List<string>();
            for (var d = full; !Directory.Exists(d); d = Path.GetDirectoryName(d)!) missing.Add(d);
            try
            {
                Directory.CreateDirectory(full);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new HyphaException(ExitCode.OutputError, $"cannot create the folder: {e.Message}", full, e);
            }
            missing.Reverse();
            _folders.AddRange(missing);
            return dir;
        }

        public void Commit() => _committed = true;

        public void Dispose()
        {
            if (_committed) return;
            try
            {
                foreach (var f in _files) File.Delete(f);
                if (!trackedOnly)
                    foreach (var f in Directory.EnumerateFiles(path).Where(f => !before.Contains(f)).ToList()) File.Delete(f);
                for (var i = _folders.Count - 1; i >= 0; i--)
                    if (Directory.Exists(_folders[i]) && !Directory.EnumerateFileSystemEntries(_folders[i]).Any()) Directory.Delete(_folders[i]);
                if (!existed && Directory.Exists(path) && !Directory.EnumerateFileSystemEntries(path).Any()) Directory.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    public static void Prepare(string path, bool overwrite)
    {
        if (File.Exists(path)) throw new HyphaException(ExitCode.OutputError, "is a file, not a folder", path);
        if (Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any() && !overwrite)
            throw new HyphaException(ExitCode.OutputError, "the output folder already holds files; choose an empty folder or pass --overwrite", path);
        EnsureWritable(path);
    }

    /// <summary>Creates <paramref name="path"/> if missing and checks that a file can be written in it; an output
    /// error naming it otherwise (a file in its place, a read-only folder).</summary>
    public static void EnsureWritable(string path)
    {
        if (File.Exists(path)) throw new HyphaException(ExitCode.OutputError, "is a file, not a folder", path);
        try
        {
            Directory.CreateDirectory(path);
            var probe = Path.Combine(path, $".hypha-write-test-{Environment.ProcessId}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HyphaException(ExitCode.OutputError, $"cannot write to the output folder: {e.Message}", path, e);
        }
    }
}
