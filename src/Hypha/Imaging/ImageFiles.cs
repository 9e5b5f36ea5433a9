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
    /// extension, so a misnamed file gets a clear read error); anything with * or ? is a glob.
    /// </summary>
    public static IReadOnlyList<string> Expand(IEnumerable<string> inputs)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            if (input.IndexOfAny(['*', '?']) >= 0)
            {
                var before = found.Count;
                foreach (var f in ExpandGlob(input)) found.Add(f);
                if (found.Count == before) throw HyphaException.Input(input, "the pattern matches no image files");
            }
            else if (Directory.Exists(input))
            {
                var files = Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories).Where(IsImage).ToList();
                if (files.Count == 0)
                    throw HyphaException.Input(input, $"the folder holds no image files ({string.Join(", ", Extensions.Order())})");
                foreach (var f in files) found.Add(Path.GetFullPath(f));
            }
            else if (File.Exists(input)) found.Add(Path.GetFullPath(input));
            else throw HyphaException.Input(input, "no such file or folder");
        }
        if (found.Count == 0) throw HyphaException.Config("no images given: pass --images with a folder, files or a glob");
        return found.ToList();
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
        return matcher.GetResultsInFullPath(root).Where(IsImage);
    }
}
