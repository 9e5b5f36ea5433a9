using Microsoft.Extensions.FileSystemGlobbing;

namespace Hypha.Imaging;

/// <summary>Expands what a user typed after <c>--images</c> (folders, files, globs) into a sorted list of image files.</summary>
public static class ImageFiles
{
    /// <summary>File extensions Hypha reads, lower case.</summary>
    public static readonly IReadOnlySet<string> Extensions =
        new HashSet<string>([".png", ".jpg", ".jpeg", ".tif", ".tiff"], StringComparer.OrdinalIgnoreCase);

    public static bool IsImage(string path) => Extensions.Contains(Path.GetExtension(path));

    /// <summary>
    /// Folders are searched recursively for files with a known extension; files are taken as given (whatever their
    /// extension, so a misnamed file gets a clear read error); anything with * or ? is a glob. Each real file is listed
    /// once however many paths (links, a folder given twice) reach it, and links into a folder already walked are not
    /// followed (<see cref="FileWalk"/>). Byte-identical files are left out: see <see cref="ExpandUnique(IEnumerable{string})"/>.
    /// </summary>
    public static IReadOnlyList<string> Expand(IEnumerable<string> inputs) => ExpandUnique(inputs).Files;

    /// <summary>As <see cref="Expand"/>, also returning the files left out because an earlier listed file has the same bytes.</summary>
    public static (IReadOnlyList<string> Files, IReadOnlyList<DuplicateFile> Duplicates) ExpandUnique(IEnumerable<string> inputs) =>
        ExpandUnique(inputs, out _);

    /// <summary>As <see cref="ExpandUnique(IEnumerable{string})"/>, also returning the folders left out as Hypha's own outputs (<see cref="OwnOutputs"/>).</summary>
    public static (IReadOnlyList<string> Files, IReadOnlyList<DuplicateFile> Duplicates) ExpandUnique(IEnumerable<string> inputs,
        out IReadOnlyList<(string Folder, string Kind)> ownOutputs)
    {
        var LeftOut = new List<(string, string)>();
        ownOutputs = LeftOut;
        var found = new SortedDictionary<string, string>(StringComparer.Ordinal); // path as reached -> real path
        var seen = new HashSet<string>(StringComparer.Ordinal); // real paths
        foreach (var input in inputs)
        {
            if (input.IndexOfAny(['*', '?']) >= 0)
            {
                var any = false;
                foreach (var f in ExpandGlob(input))
                {
                    any = true;
                    var real = FileWalk.RealPath(f);
                    if (seen.Add(real)) found[f] = real;
                }
                if (!any) throw HyphaException.Input(input, "the pattern matches no image files");
            }
            else if (Directory.Exists(input))
            {
                var any = false;
                foreach (var (f, real) in FileWalk.Files(input, IsImage, leftOut: (d, kind) => LeftOut.Add((d, kind))))
                {
                    any = true;
                    if (seen.Add(real)) found[Path.GetFullPath(f)] = real;
                }
                if (!any)
                    throw HyphaException.Input(input, $"the folder holds no image files ({string.Join(", ", Extensions.Order())})");
            }
            else if (File.Exists(input))
            {
                var real = FileWalk.RealPath(input);
                if (seen.Add(real)) found[Path.GetFullPath(input)] = real;
            }
            else throw HyphaException.Input(input, "no such file or folder");
        }
        if (found.Count == 0) throw HyphaException.Config("no images given: pass --images with a folder, files or a glob");
        var files = found.Keys.ToList();
        var duplicates = FileWalk.Duplicates(files);
        if (duplicates.Count == 0) return (files, []);
        var dropped = duplicates.Select(d => d.Path).ToHashSet(StringComparer.Ordinal);
        return (files.Where(f => !dropped.Contains(f)).ToList(), duplicates);
    }

    static IEnumerable<string> ExpandGlob(string pattern)
    {
        // Split at the first path segment that holds a wildcard: the part before is the root to search.
        var full = Path.GetFullPath(pattern.Replace('\\', '/'));
        var segments = full.Split('/');
        var firstWild = Array.FindIndex(segments, s => s.IndexOfAny(['*', '?']) >= 0);
        var root = string.Join('/', segments[..firstWild]);
        if (root.Length == 0) root = "/";
        var rest = string.Join('/', segments[firstWild..]);
        if (!Directory.Exists(root)) return [];
        var matcher = new Matcher(StringComparison.Ordinal);
        matcher.AddInclude(rest);
        // Walk the root with FileWalk (no link loops) and match the paths found; without ** no deeper than the pattern.
        var depth = rest.Contains("**", StringComparison.Ordinal) ? int.MaxValue : rest.Count(c => c == '/');
        var walked = FileWalk.Files(root, IsImage, maxDepth: depth).Select(f => f.Path).ToList();
        var result = matcher.Match(root, walked.Select(f => Path.GetRelativePath(root, f)));
        return result.Files.Select(m => Path.GetFullPath(Path.Combine(root, m.Path))).Where(IsImage);
    }
}
