using System.Text.Json;

namespace Hypha.Tests.Faults;

/// <summary>
/// Issue 15, "inputs that change under a run": a run remembers what it trained on (inputs.json: absolute paths, sizes,
/// SHA-256), and train --resume, evaluate and the other verbs that re-read its images refuse, listing what was added,
/// removed and changed, instead of training or scoring on another dataset and split. Relative --images are stored
/// absolute, so a run folder works from any working directory.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class InputManifestTests : IDisposable
{
    readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    static readonly string[] Nuclei = Directory.GetFiles(SharedData.Path("bbbc039_u2os_nuclei"), "*.tif").Order().ToArray();

    /// <summary>A folder of five real images and a tiny run trained on it (split by images).</summary>
    (string Images, string Run) TrainedRun()
    {
        var images = Directory.CreateDirectory(_tmp.Path("images")).FullName;
        foreach (var f in Nuclei.Take(5)) BadFiles.Copy(f, images);
        var run = _tmp.Path("run");
        var r = Cli.Run(Tiny.TrainOn([images], run));
        Assert.True(r.Code == 0, r.ToString());
        return (images, run);
    }

    [Fact]
    public void A_run_records_its_inputs_with_absolute_paths_sizes_and_hashes()
    {
        var (images, run) = TrainedRun();
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "inputs.json")));
        var files = json.RootElement.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(Nuclei.Take(5).Select(f => Path.Combine(images, Path.GetFileName(f))), files.Select(f => f.GetProperty("path").GetString()));
        foreach (var f in files)
        {
            var path = f.GetProperty("path").GetString()!;
            Assert.Equal(new FileInfo(path).Length, f.GetProperty("size").GetInt64());
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path))), f.GetProperty("sha256").GetString());
        }
    }

    [Fact]
    public void Resume_and_evaluate_refuse_when_images_were_added_removed_or_changed_and_list_them()
    {
        var (images, run) = TrainedRun();
        var dataset = File.ReadAllBytes(Path.Combine(run, "dataset.json"));
        var config = File.ReadAllBytes(Path.Combine(run, "config.json"));
        var names = Nuclei.Take(5).Select(Path.GetFileName).ToArray();
        BadFiles.Copy(Nuclei[5], images);                                                   // added
        File.Delete(Path.Combine(images, names[1]!));                                       // removed
        var bytes = File.ReadAllBytes(Path.Combine(images, names[2]!));
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(Path.Combine(images, names[2]!), bytes);                         // changed: same size, other bytes
        File.AppendAllText(Path.Combine(images, names[3]!), "x");                           // changed: other size

        var r = Cli.Run("train", "--run", run, "--resume", "--epochs", "2");
        Assert.True(r.Code == (int)ExitCode.BadInput, r.ToString());
        Assert.Contains("the run's images changed since it was trained (1 added, 1 removed, 2 changed)", r.Err);
        Assert.Contains($"  added: {Path.Combine(images, Path.GetFileName(Nuclei[5]))}", r.Err);
        Assert.Contains($"  removed: {Path.Combine(images, names[1]!)}", r.Err);
        Assert.Contains($"  changed: {Path.Combine(images, names[2]!)} (same size, other bytes)", r.Err);
        Assert.Matches($@"  changed: {System.Text.RegularExpressions.Regex.Escape(Path.Combine(images, names[3]!))} \([\d,]+ -> [\d,]+ bytes\)", r.Err);
        Assert.DoesNotContain("unexpected", r.Err);
        Assert.Equal(dataset, File.ReadAllBytes(Path.Combine(run, "dataset.json"))); // nothing rewritten
        Assert.Equal(config, File.ReadAllBytes(Path.Combine(run, "config.json")));

        var e = Cli.Run("evaluate", "--run", run, "--metrics", "psnr", "--test-limit", "8");
        Assert.True(e.Code == (int)ExitCode.BadInput, e.ToString());
        Assert.Contains("the run's images changed since it was trained", e.Err);
        Assert.False(File.Exists(Path.Combine(run, "metrics.jsonl")));
    }

    [Fact]
    public void Touching_or_copying_a_file_without_changing_its_bytes_is_not_a_change()
    {
        var (images, run) = TrainedRun();
        var first = Directory.GetFiles(images).Order().First();
        File.SetLastWriteTimeUtc(first, DateTime.UtcNow.AddDays(-3)); // as cp without -p, or a restore from backup
        var r = Cli.Run("train", "--run", run, "--resume", "--epochs", "2");
        Assert.True(r.Code == 0, r.ToString());
    }

    [Fact]
    public void Relative_images_keep_working_from_another_working_directory()
    {
        var project = Directory.CreateDirectory(_tmp.Path("project")).FullName;
        var elsewhere = Directory.CreateDirectory(_tmp.Path("elsewhere")).FullName;
        Directory.CreateDirectory(Path.Combine(project, "imgs"));
        BadFiles.Copy(Tiny.Image, Path.Combine(project, "imgs"));
        var run = Path.Combine(project, "run");
        var train = Cli.RunIn(project, Tiny.TrainOn(["imgs"], run));
        Assert.True(train.Code == 0, train.ToString());
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json"))))
            Assert.Equal(Path.Combine(project, "imgs"), config.RootElement.GetProperty("data").GetProperty("images")[0].GetString());

        var evaluate = Cli.RunIn(elsewhere, "evaluate", "--run", run, "--metrics", "psnr", "--test-limit", "8", "--threads", "1");
        Assert.True(evaluate.Code == 0, evaluate.ToString());
        var resume = Cli.RunIn(elsewhere, "train", "--run", run, "--resume", "--epochs", "2");
        Assert.True(resume.Code == 0, resume.ToString());
    }
}
