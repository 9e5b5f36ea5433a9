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
        return new Output(path, existed, existed ? Directory.EnumerateFiles(path).ToHashSet() : []);
    }

    /// <summary>See <see cref="Begin"/>.</summary>
    public sealed class Output(string path, bool existed, HashSet<string> before) : IDisposable
    {
        bool _committed;

        public void Commit() => _committed = true;

        public void Dispose()
        {
            if (_committed) return;
            try
            {
                foreach (var f in Directory.EnumerateFiles(path).Where(f => !before.Contains(f)).ToList()) File.Delete(f);
                if (!existed && !Directory.EnumerateFileSystemEntries(path).Any()) Directory.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    public static void Prepare(string path, bool overwrite)
    {
        if (File.Exists(path)) throw new HyphaException(ExitCode.OutputError, "is a file, not a folder", path);
        if (Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any() && !overwrite)
            throw new HyphaException(ExitCode.OutputError, "the output folder already holds files; choose an empty folder or pass --overwrite", path);
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
