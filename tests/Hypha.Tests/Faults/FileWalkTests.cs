using System.Diagnostics;
using System.Text.Json;
using Hypha.Imaging;

namespace Hypha.Tests.Faults;

/// <summary>
/// Inputs reached by several paths (issue 15, "symlinked folders" and "the same picture twice"): symlink loops end, a file
/// reached through links is listed once, and byte-identical files (copies, hard links) are counted once and listed.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class FileWalkTests : IDisposable
{
    readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    static void Ln(params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo("ln", args) { UseShellExecute = false })!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    /// <summary>Runs <paramref name="f"/> with a time limit, so a walk that never ends fails instead of hanging the suite.</summary>
    static T Within<T>(Func<T> f, int seconds = 20)
    {
        var task = Task.Factory.StartNew(f, TaskCreationOptions.LongRunning);
        Assert.True(task.Wait(TimeSpan.FromSeconds(seconds)), $"did not finish within {seconds} s (a link loop followed?)");
        return task.Result;
    }

    string LoopFolder()
    {
        // mkdir -p loop/sub; cp noise.png loop/a.png; ln -s .. loop/sub/up; ln -s ../loop loop/self
        var loop = Directory.CreateDirectory(_tmp.Path("loop", "sub")).Parent!.FullName;
        BadFiles.Copy(Tiny.Image, loop, "a.png");
        Ln("-s", "..", Path.Combine(loop, "sub", "up"));
        Ln("-s", "../loop", Path.Combine(loop, "self"));
        return loop;
    }

    [Fact]
    public void A_folder_linked_to_itself_lists_its_file_once()
    {
        var dir = Directory.CreateDirectory(_tmp.Path("loop1")).FullName;
        BadFiles.Copy(Tiny.Image, dir, "a.png");
        Ln("-s", ".", Path.Combine(dir, "self"));
        var files = Within(() => ImageFiles.Expand([dir]));
        Assert.Equal([Path.Combine(dir, "a.png")], files);
    }

    [Fact]
    public void Two_links_making_a_loop_end_and_list_the_file_once_from_folders_and_globs()
    {
        var loop = LoopFolder();
        Assert.Single(Within(() => ImageFiles.Expand([loop])));
        Assert.Single(Within(() => ImageFiles.Expand([loop + "/**/*.png"])));
        // A folder given twice, and through a link, is still one file.
        Assert.Single(Within(() => ImageFiles.Expand([loop, Path.Combine(loop, "self"), Path.Combine(loop, "sub", "up", "a.png")])));
    }

    [Fact]
    public void Prepare_on_a_symlink_loop_ends_with_one_image()
    {
        var loop = LoopFolder();
        var outDir = _tmp.Path("prepared");
        var r = Within(() => Cli.Run("prepare", "--preset", "cpu", "--images", loop, "--chunk", "32", "--stride", "32", "--out", outDir));
        Assert.True(r.Code == 0, r.ToString());
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "dataset.json")));
        Assert.Equal(1, json.RootElement.GetProperty("images").GetArrayLength());
        Assert.Equal("regions", json.RootElement.GetProperty("split_mode").GetString());
    }

    [Fact]
    public void Copies_hard_links_and_file_links_of_one_picture_are_counted_once_and_listed()
    {
        var dir = Directory.CreateDirectory(_tmp.Path("dups")).FullName;
        var good = Directory.GetFiles(SharedData.Path("bbbc039_u2os_nuclei"), "*.tif").Order().Take(5).ToArray();
        foreach (var g in good) BadFiles.Copy(g, dir);
        var first = Path.Combine(dir, Path.GetFileName(good[0]));
        BadFiles.Copy(first, dir, "zz-copy.tif");
        Ln(first, Path.Combine(dir, "zz-hardlink.tif"));
        Ln("-s", first, Path.Combine(dir, "zz-symlink.tif"));

        Assert.Equal(5, ImageFiles.Expand([dir]).Count);

        var outDir = _tmp.Path("prepared");
        var r = Cli.Run("prepare", "--preset", "cpu", "--images", dir, "--chunk", "64", "--stride", "64", "--out", outDir);
        Assert.True(r.Code == 0, r.ToString());
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "dataset.json")));
        Assert.Equal(5, json.RootElement.GetProperty("images").GetArrayLength());
        var skipped = json.RootElement.GetProperty("skipped").EnumerateArray()
            .ToDictionary(s => s.GetProperty("path").GetString()!, s => s.GetProperty("problem").GetString());
        Assert.Equal([Path.Combine(dir, "zz-copy.tif"), Path.Combine(dir, "zz-hardlink.tif")], skipped.Keys.Order());
        Assert.All(skipped.Values, p => Assert.Contains($"the same bytes as {first}", p));
    }
}
