namespace Hypha.Sampling;

/// <summary>Guards folders that sample and reconstruct write into: existing files are never overwritten unless asked.</summary>
public static class OutputFolder
{
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
