namespace Hypha.Runs;

/// <summary>
/// Writes files so that a reader (or a resumed run after SIGKILL or a full disk) sees either the old file whole or
/// the new one whole: write a temporary file beside the target, flush it to disk, then rename over the target.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var tmp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(tmp);
            throw new HyphaException(ExitCode.OutputError,
                $"cannot write ({e.Message.TrimEnd('.')}); the previous version, if any, is intact", path, e);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

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
