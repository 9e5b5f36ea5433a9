namespace Hypha.Runs;

/// <summary>
/// Writes files so that a reader (or a resumed run after SIGKILL or a full disk) sees either the old file whole or
/// the new one whole: write a temporary file beside the target, flush it to disk, then rename over the target.
/// </summary>
public static class AtomicFile
{
    /// <param name="durable">Flush the file to disk before the rename (default). False leaves the flush to the
    /// kernel: a killed process still leaves the old file or the new one whole, but after a power loss the new file
    /// may be empty until <see cref="SyncFileSystem"/> has run. For the thousands of images of one set, which are
    /// synced once when the set is complete (a flush per file costs a journal commit each: 35 ms a file measured).</param>
    /// <param name="buffer">The file stream's buffer in bytes; default 1 MiB (0: none, for one write of a whole array).</param>
    public static void Write(string path, Action<Stream> write, bool durable = true, int buffer = 1 << 20)
    {
        using var pending = Begin(path, buffer);
        try
        {
            write(pending.Stream);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failed(path, e);
        }
        pending.Commit(durable);
    }

    /// <summary>Flushes every file written to the file system that holds <paramref name="folder"/> to disk (Linux
    /// <c>syncfs</c>; <c>sync</c> elsewhere): one flush for a whole set written with <c>durable: false</c>.</summary>
    public static void SyncFileSystem(string folder)
    {
        if (OperatingSystem.IsWindows()) return;
        try
        {
            if (OperatingSystem.IsLinux())
            {
                var fd = open(folder, 0 /* O_RDONLY */);
                if (fd >= 0)
                {
                    var ok = syncfs(fd) == 0;
                    close(fd);
                    if (ok) return;
                }
            }
            sync();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    static extern int open([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path, int flags);

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    static extern int syncfs(int fd);

    [System.Runtime.InteropServices.DllImport("libc")]
    static extern void sync();

    [System.Runtime.InteropServices.DllImport("libc")]
    static extern int close(int fd);

    /// <summary>
    /// Starts writing <paramref name="path"/> through a temporary file beside it, for writers that fill a file over
    /// time (a TIFF stack, page by page): <see cref="Pending.Commit"/> flushes it to disk and renames it over the
    /// target; disposed without, the temporary file is deleted and the target is untouched.
    /// </summary>
    public static Pending Begin(string path, int buffer = 1 << 20)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var tmp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        try
        {
            return new Pending(path, tmp, new FileStream(tmp, FileMode.Create, FileAccess.ReadWrite, FileShare.None, buffer));
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

        /// <summary>Flushes the file (to disk unless not <paramref name="durable"/>: see <see cref="Write"/>) and renames it over the target.</summary>
        public void Commit(bool durable = true)
        {
            try
            {
                stream.Flush(flushToDisk: durable);
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

    /// <summary>Writes <paramref name="bytes"/> in one call, without a stream buffer (a 1 MiB buffer per small image
    /// file cost more than the image).</summary>
    public static void WriteAllBytes(string path, byte[] bytes, bool durable = true) => Write(path, s => s.Write(bytes), durable, buffer: 0);

    static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
