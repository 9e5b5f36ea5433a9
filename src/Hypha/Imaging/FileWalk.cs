using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Hypha.Imaging;

/// <summary>A file left out because another listed file has the same bytes (a copy, a hard link or a link to it).</summary>
/// <param name="Path">The file left out.</param>
/// <param name="SameAs">The file kept in its place.</param>
public sealed record DuplicateFile(string Path, string SameAs);

/// <summary>
/// Walks folders for image files without following a link into a folder already walked: each real folder is entered
/// once and each real file listed once, whatever path (symlink, <c>..</c> link, bind of the same tree) reaches it.
/// Identity is the canonical path with every link resolved (libc <c>realpath</c> on Unix), not the path as typed;
/// see docs/decisions.md. Files with the same bytes under different real paths (copies, hard links) are found by
/// <see cref="Duplicates"/>.
/// </summary>
public static class FileWalk
{
    static readonly EnumerationOptions OneLevel = new() { RecurseSubdirectories = false, AttributesToSkip = 0, IgnoreInaccessible = false, MatchType = MatchType.Win32 };

    /// <summary>
    /// Files under <paramref name="root"/> (recursively, breadth first, so the shortest path to a file is the one kept)
    /// that pass <paramref name="keep"/>, as (path as reached, real path). Folders deeper than <paramref name="maxDepth"/>
    /// below the root are not entered. A folder reached again through a link is skipped; so is a file.
    /// </summary>
    public static IEnumerable<(string Path, string Real)> Files(string root, Func<string, bool> keep, ISet<string>? seenFiles = null,
        int maxDepth = int.MaxValue, Action<string, string>? leftOut = null)
    {
        var seenDirs = new HashSet<string>(StringComparer.Ordinal);
        seenFiles ??= new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<(string Dir, int Depth)>();
        queue.Enqueue((Path.GetFullPath(root), 0));
        while (queue.Count > 0)
        {
            var (dir, depth) = queue.Dequeue();
            if (!seenDirs.Add(RealPath(dir))) continue;
            if (depth > 0 && OwnOutputs.Kind(dir) is { } kind) { leftOut?.Invoke(dir, kind); continue; } // Hypha's own outputs are not inputs
            var entries = Directory.EnumerateFileSystemEntries(dir, "*", OneLevel).Order(StringComparer.Ordinal).ToList();
            foreach (var e in entries)
            {
                if (Directory.Exists(e)) { if (depth < maxDepth) queue.Enqueue((e, depth + 1)); continue; }
                if (!keep(e) || !File.Exists(e)) continue; // a dangling link is not a file
                var real = RealPath(e);
                if (seenFiles.Add(real)) yield return (e, real);
            }
        }
    }

    /// <summary>
    /// Among <paramref name="files"/> (distinct real paths, in the order given), those whose bytes equal an earlier one's.
    /// Only files that share their length with another are hashed (SHA-256), so distinct data costs a stat each.
    /// </summary>
    public static IReadOnlyList<DuplicateFile> Duplicates(IReadOnlyList<string> files)
    {
        var bySize = files.Select((f, i) => (File: f, Order: i, Size: new FileInfo(f).Length)).GroupBy(x => x.Size).Where(g => g.Count() > 1);
        var found = new List<(int Order, DuplicateFile Dup)>();
        foreach (var group in bySize)
        {
            var first = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var x in group.OrderBy(x => x.Order))
            {
                var hash = Hash(x.File);
                if (first.TryGetValue(hash, out var kept)) found.Add((x.Order, new DuplicateFile(x.File, kept)));
                else first[hash] = x.File;
            }
        }
        return found.OrderBy(d => d.Order).Select(d => d.Dup).ToList();
    }

    /// <summary>The SHA-256 of a file's bytes, lower-case hex.</summary>
    public static string Hash(string path)
    {
        using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(s));
    }

    /// <summary>The canonical absolute path of <paramref name="path"/> with every symbolic link resolved.</summary>
    public static string RealPath(string path)
    {
        var full = Path.GetFullPath(path);
        if (!OperatingSystem.IsWindows())
        {
            try
            {
                var p = realpath(full, IntPtr.Zero);
                if (p != IntPtr.Zero)
                {
                    try { return Marshal.PtrToStringUTF8(p) ?? full; }
                    finally { free(p); }
                }
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        }
        return ManagedRealPath(full);
    }

    /// <summary><see cref="RealPath"/> of the nearest existing ancestor, with the missing rest appended (for a folder not made yet).</summary>
    public static string RealPathOfMaybeMissing(string path)
    {
        var full = Path.GetFullPath(path);
        var rest = new Stack<string>();
        while (!Directory.Exists(full) && !File.Exists(full) && Path.GetDirectoryName(full) is { } parent)
        {
            rest.Push(Path.GetFileName(full));
            full = parent;
        }
        return Path.Combine([RealPath(full), .. rest]);
    }

    /// <summary>Resolves links component by component (Windows, or a libc without realpath).</summary>
    static string ManagedRealPath(string full)
    {
        var root = Path.GetPathRoot(full) ?? "";
        var current = root;
        foreach (var part in full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            for (var hops = 0; hops < 40; hops++)
            {
                FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
                if (info.LinkTarget is not { } target) break;
                current = Path.GetFullPath(Path.IsPathRooted(target) ? target : Path.Combine(Path.GetDirectoryName(current) ?? root, target));
            }
        }
        return current;
    }

    [DllImport("libc", EntryPoint = "realpath", SetLastError = true)]
    static extern IntPtr realpath([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);

    [DllImport("libc", EntryPoint = "free")]
    static extern void free(IntPtr p);
}
