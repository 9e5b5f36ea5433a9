using System.Diagnostics;
using Hypha.Export;

namespace Hypha.Tests.Export;

/// <summary>examples/TrainAndSample, the library's example program (docs/library.md), built with the tests and run as a
/// user runs it: on a real image it trains, samples and exports through the public API alone.</summary>
public sealed class LibraryExampleTests : IDisposable
{
    readonly Faults.TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public async Task The_example_program_trains_samples_and_exports()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "TrainAndSample.dll");
        Assert.True(File.Exists(dll), $"{dll} was not built beside the tests");
        var output = _tmp.Path("out");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { dll, Faults.Tiny.Image, output }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var errTask = p.StandardError.ReadToEndAsync();
        var outTask = p.StandardOutput.ReadToEndAsync();
        using (var limit = new CancellationTokenSource(TimeSpan.FromMinutes(3))) await p.WaitForExitAsync(limit.Token);
        var (stdout, err) = (await outTask, await errTask);
        Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}\n{err}\n{stdout}");

        Assert.Contains("epoch 2/2", stdout);
        Assert.Contains("sampled 16 images of 32x32", stdout);
        Assert.Equal(16, Directory.GetFiles(Path.Combine(output, "samples"), "sample_*.png").Length);
        Assert.True(File.Exists(Path.Combine(output, "samples", "grid.png")));
        Assert.True(File.Exists(Path.Combine(output, "run", "checkpoints", "last.ckpt")));
        using var weights = SafetensorsFile.Read(Path.Combine(output, "model.safetensors"));
        Assert.Equal(248, weights.Tensors.Count);
        Assert.True(File.Exists(Path.Combine(output, "model.json")));
    }
}
