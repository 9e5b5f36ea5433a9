namespace Hypha.Bench;

/// <summary>A throwaway run folder for the trainer's checkpoint.</summary>
public sealed class TempRun : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "hypha-bench-" + Environment.ProcessId);

    public void Dispose()
    {
        try { Directory.Delete(Path, true); } catch (IOException) { }
    }
}
