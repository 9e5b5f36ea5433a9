namespace Hypha.Tests;

/// <summary>Locates ../shared/data beside the checkout; tests read real microscopy images from there.</summary>
public static class SharedData
{
    public static string Root { get; } = Find();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    static string Find()
    {
        var env = Environment.GetEnvironmentVariable("HYPHA_SHARED_DATA");
        if (!string.IsNullOrEmpty(env)) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "..", "shared", "data");
            if (Directory.Exists(candidate) && File.Exists(System.IO.Path.Combine(candidate, "INDEX.md")))
                return System.IO.Path.GetFullPath(candidate);
        }
        throw new DirectoryNotFoundException("../shared/data not found beside the checkout; set HYPHA_SHARED_DATA");
    }
}
