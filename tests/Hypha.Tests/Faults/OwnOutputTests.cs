using System.Text.Json;

namespace Hypha.Tests.Faults;

/// <summary>Issue 15, "Its own outputs as inputs": Hypha's run, sample and prepare folders inside --images are left out (and said so); an --out inside the images is refused.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class OwnOutputTests : IDisposable
{
    readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void Output_folders_inside_the_images_are_left_out_and_an_out_inside_them_is_refused()
    {
        var images = Directory.CreateDirectory(_tmp.Path("images")).FullName;
        foreach (var g in Directory.GetFiles(SharedData.Path("bbbc039_u2os_nuclei"), "*.tif").Order().Take(5)) BadFiles.Copy(g, images);
        // What earlier runs leave there: a run folder (plots, grids) and samples.
        var run = Tiny.Train(Path.Combine(images, "runs", "00000-run"));
        var s = Cli.Run("sample", "--run", run, "--out", Path.Combine(images, "samples"), "--count", "3", "--device", "cpu");
        Assert.True(s.Code == 0, s.ToString());

        var outDir = _tmp.Path("prepared");
        var r = Cli.Run("prepare", "--preset", "cpu", "--images", images, "--chunk", "64", "--stride", "64", "--out", outDir);
        Assert.True(r.Code == 0, r.ToString());
        using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "dataset.json"))))
            Assert.Equal(5, json.RootElement.GetProperty("images").GetArrayLength());
        Hypha.Imaging.ImageFiles.ExpandUnique([images], out var own);
        Assert.Equal([(Path.Combine(images, "runs", "00000-run"), "a hypha run folder"), (Path.Combine(images, "samples"), "a hypha sample output")],
            own.OrderBy(o => o.Folder, StringComparer.Ordinal));

        var t = Cli.Run("train", "--images", images, "--out", Path.Combine(images, "runs"), "--dry-run");
        Assert.True(t.Code == (int)ExitCode.InvalidConfig, t.ToString());
        Assert.Contains("is inside the image folder", t.Err);
        var t2 = Cli.Run(Tiny.TrainOn([images], Path.Combine(images, "new-run")));
        Assert.True(t2.Code == (int)ExitCode.InvalidConfig, t2.ToString());
        Assert.False(Directory.Exists(Path.Combine(images, "new-run")));
    }
}
