using System.Runtime.InteropServices;

namespace Hypha.Runs;

/// <summary>
/// An exclusive advisory lock on a folder (a run folder for <c>train</c>, an output folder for <c>sample</c> and
/// <c>reconstruct</c>), held until disposed or the process ends. It is a <c>flock</c> on the folder itself, not a lock
/// file: the kernel drops it when the process dies however it dies (SIGKILL, OOM, power loss), so it is never stale, and
/// the folder gains no file (empty-folder checks and clean-up are unchanged). A second writer is refused with the
/// holder's process id, read from /proc/locks (Linux). Not taken on Windows, and a file system without flock support
/// (some network mounts) goes unlocked rather than refusing to work.
/// </summary>
public sealed class RunLock : IDisposable
{
    int _fd;
    readonly string? _createdFolder;

    RunLock(int fd, string? createdFolder) => (_fd, _createdFolder) = (fd, createdFolder);

    /// <summary>Locks the existing folder <paramref name="folder"/>; <paramref name="what"/> names it in the message ("run folder").</summary>
    public static RunLock? Acquire(string folder, string what) => Take(folder, what, createdFolder: null);

    /// <summary>
    /// Locks the output folder <paramref name="folder"/>, creating it if missing; disposing removes a folder it created
    /// that is still empty (a verb that failed before writing). Nothing is taken when the path is a file (the writer says so).
    /// <paramref name="shared"/> (default false) takes a shared lock instead, for the jobs of one sharded set
    /// (<c>--shard K/N</c>), which write disjoint files into one folder at the same time: they exclude every
    /// unsharded writer, and it excludes them.
    /// </summary>
    public static RunLock? ForOutput(string folder, bool shared = false)
    {
        if (File.Exists(folder)) return null;
        var created = !Directory.Exists(folder);
        try { Directory.CreateDirectory(folder); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; } // the writer reports it
        try { return Take(folder, "output folder", created ? Path.GetFullPath(folder) : null, shared); }
        catch
        {
            if (created) TryRemoveEmpty(Path.GetFullPath(folder));
            throw;
        }
    }

    static RunLock? Take(string folder, string what, string? createdFolder, bool shared = false)
    {
        if (OperatingSystem.IsWindows()) return null;
        int fd;
        try { fd = open(folder, 0 /* O_RDONLY */); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return null; }
        if (fd < 0) return null; // cannot open: the writer reports the folder's problem
        const int LockSh = 1, LockEx = 2, LockNb = 4;
        if (flock(fd, (shared ? LockSh : LockEx) | LockNb) == 0) return new RunLock(fd, createdFolder);
        var errno = Marshal.GetLastPInvokeError();
        var holder = errno is 11 or 35 ? Holder(fd) : null; // EWOULDBLOCK: Linux 11, macOS 35
        close(fd);
        if (errno is not (11 or 35)) return null; // ENOLCK, EINVAL: no flock here
        throw new HyphaException(ExitCode.OutputError,
            $"the {what} is in use by another hypha process ({(holder is { } pid ? $"process id {pid}" : "process id unknown")}); " +
            "wait for it to end or choose another folder", folder);
    }

    /// <summary>The process holding a flock on the inode that <paramref name="fd"/> refers to, from /proc/self/fdinfo and /proc/locks.</summary>
    static int? Holder(int fd)
    {
        try
        {
            var ino = File.ReadLines($"/proc/self/fdinfo/{fd}").FirstOrDefault(l => l.StartsWith("ino:", StringComparison.Ordinal))?[4..].Trim();
            if (ino is null) return null;
            foreach (var line in File.ReadLines("/proc/locks"))
            {
                // 1: FLOCK  ADVISORY  WRITE 32170 fe:00:247152 0 EOF (READ for a shared lock)
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length >= 6 && f[1] == "FLOCK" && f[3] is ("WRITE" or "READ") && f[5].EndsWith(":" + ino, StringComparison.Ordinal) && int.TryParse(f[4], out var pid))
                    return pid;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return null;
    }

    static void TryRemoveEmpty(string folder)
    {
        try { if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any()) Directory.Delete(folder); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    public void Dispose()
    {
        if (_fd < 0) return;
        close(_fd);
        _fd = -1;
        if (_createdFolder is not null) TryRemoveEmpty(_createdFolder);
    }

    [DllImport("libc", SetLastError = true)]
    static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    static extern int flock(int fd, int operation);

    [DllImport("libc")]
    static extern int close(int fd);
}
