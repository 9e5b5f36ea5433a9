namespace Hypha.Runs;

/// <summary>
/// Writes files so that a reader (or a resumed run after SIGKILL or a full disk) sees either the old file whole or
/// the new one whole: write a temporary file beside the target, flush it to disk, then rename over the target.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        using var pending = Begin(path);
        try
        {
            write(pending.Stream);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failed(path, e);
        }
        pending.Commit();
    }

    /// <summary>
    /// Starts writing <paramref name="path"/> through a temporary file beside it, for writers that fill a file over
    /// time (a TIFF stack, page by page): <see cref="Pending.Commit"/> flushes it to disk and renames it over the
    /// target; disposed without, the temporary file is deleted and the target is untouched.
    /// </summary>
    public static Pending Begin(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var tmp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        try
        {
            return new Pending(path, tmp, new FileStream(tmp, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 20));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(tmp);
            throw Failed(path, e);
        }
    }

    /// <summary>A file being written; see <see cref="Begin"/>.</summary>
    public sealed class Pending(string path, string tmp, FileStream stream) : IDisposable
    {
        bool _done;

        /// <summary>The temporary file's stream (seekable).</summary>
        public Stream Stream => stream;

        /// <summary>The target's path.</summary>
        public string Path => path;

        /// <summary>Flushes the file to disk and renames it over the target.</summary>
        public void Commit()
        {
            try
            {
                stream.Flush(flushToDisk: true);
                stream.Dispose();
                File.Move(tmp, path, overwrite: true);
                _done = true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Failed(path, e);
            }
        }

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            try { stream.Dispose(); } catch (IOException) { } // a full disk fails the last flush too
            TryDelete(tmp);
        }
    }

    static HyphaException Failed(string path, Exception e) => new(ExitCode.OutputError,
        $"cannot write ({e.Message.TrimEnd('.')}); the previous version, if any, is intact", path, e);

    /// <summary>
    /// Deletes temporary files that a killed process left beside <paramref name="path"/> (a SIGKILL or power loss
    /// mid-write leaves <c>.NAME.PID.tmp</c>); files of processes still running are left alone.
    /// </summary>
    public static void DeleteStaleTemps(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var prefix = $".{Path.GetFileName(path)}.";
        if (!Directory.Exists(dir)) return;
        foreach (var tmp in Directory.EnumerateFiles(dir, prefix + "*.tmp"))
        {
            var pid = Path.GetFileName(tmp)[prefix.Length..^".tmp".Length];
            if (!int.TryParse(pid, out var id) || id == Environment.ProcessId || IsRunning(id)) continue;
            TryDelete(tmp);
        }
    }

    static bool IsRunning(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s, leaveOpen: true); w.Write(text); });

    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, s => s.Write(bytes));

    static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
