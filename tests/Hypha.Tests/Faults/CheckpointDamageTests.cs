using System.Globalization;
using Hypha.Models;
using Hypha.Runs;
using Hypha.Training;
using Xunit.Abstractions;

namespace Hypha.Tests.Faults;

/// <summary>
/// Issue 15, "Bytes that lie": a checkpoint with bytes overwritten anywhere (weights, optimizer state, RNG, header, end
/// marker) is refused with exit 4 naming what is damaged; none loads.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class CheckpointDamageTests(ITestOutputHelper log) : IDisposable
{
    readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    static void Load(string run, string ckpt)
    {
        var config = RunFolder.Open(run).ReadConfig();
        using var model = config.Model.Descriptor.Create(config.Model, 1, config.Data.Chunk);
        Checkpoint.Load(ckpt, model, config.Model, 1, config.Data.Chunk, optimizer: null);
    }

    /// <summary>Bounded fault injection: 60 copies of a real checkpoint, each with 1 to 16 bytes changed at seeded random places.</summary>
    [Fact]
    public void Random_byte_flips_anywhere_in_a_real_checkpoint_are_all_refused()
    {
        var run = Tiny.Train(_tmp.Path("run"));
        var good = File.ReadAllBytes(Path.Combine(run, "checkpoints", "last.ckpt"));
        Load(run, Path.Combine(run, "checkpoints", "last.ckpt")); // the intact one loads
        var seed = Environment.GetEnvironmentVariable("HYPHA_FAULTS_SEED") is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : Environment.TickCount;
        log.WriteLine($"flip seed {seed} (set HYPHA_FAULTS_SEED to replay)");
        var random = new Random(seed);
        var loaded = new List<string>();
        for (var trial = 0; trial < 60; trial++)
        {
            var bytes = (byte[])good.Clone();
            var flips = random.Next(1, 17);
            var at = new List<int>();
            for (var k = 0; k < flips; k++)
            {
                var i = random.Next(bytes.Length);
                bytes[i] ^= (byte)random.Next(1, 256);
                at.Add(i);
            }
            var path = _tmp.Path($"damaged-{trial}.ckpt");
            File.WriteAllBytes(path, bytes);
            try
            {
                Load(run, path);
                loaded.Add($"trial {trial}: {string.Join(",", at)} of {bytes.Length}");
            }
            catch (HyphaException e)
            {
                Assert.True(e.Code == ExitCode.BadCheckpoint, $"trial {trial}: {e.Code} {e.Message}");
                Assert.DoesNotContain("\n", e.Message);
            }
        }
        Assert.True(loaded.Count == 0, "damaged checkpoints loaded:\n" + string.Join("\n", loaded));
    }
}

/// <summary>Each section named when damaged; a full-length file with a damaged end marker is damaged, not truncated; previous.ckpt kept for a roll back.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class CheckpointSectionTests : IDisposable
{
    readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void Overwritten_bytes_are_refused_naming_the_section_and_previous_ckpt_rolls_back()
    {
        var run = Tiny.Train(_tmp.Path("run"), "--epochs", "2");
        var last = Path.Combine(run, "checkpoints", "last.ckpt");
        var previous = Path.Combine(run, "checkpoints", "previous.ckpt");
        Assert.True(File.Exists(previous), "previous.ckpt was not kept");
        Assert.Equal(1, Checkpoint.ReadHeader(previous).Epoch);
        Assert.Equal(2, Checkpoint.ReadHeader(last).Epoch);
        var good = File.ReadAllBytes(last);
        IReadOnlyList<CheckpointSections.Section> sections;
        using (var fs = File.OpenRead(last)) sections = CheckpointSections.Check(fs, last, "HYPHA-END-OF-CKPT"u8.ToArray(), all: true);
        Assert.Equal(["header", "rng", "weights", "optimizer"], sections.Select(s => s.Name));

        foreach (var s in sections)
        {
            var bytes = (byte[])good.Clone();
            var start = s.Offset + s.Length / 2 - Math.Min(200, s.Length / 2);
            for (var i = start; i < start + Math.Min(400, s.Length); i++) bytes[i] = 0x55; // "400 bytes overwritten"
            File.WriteAllBytes(last, bytes);
            var r = Cli.Run("sample", "--run", run, "--out", _tmp.Path("out-" + s.Name), "--count", "2", "--device", "cpu");
            Assert.True(r.Code == (int)ExitCode.BadCheckpoint, r.ToString());
            Assert.True(r.Err.Contains($"{last}: the checkpoint is damaged: its {s.Name} section fails its SHA-256 check"), r.Err);
            Assert.Contains($"copy {previous} over it", r.Err);
            Assert.False(Directory.Exists(_tmp.Path("out-" + s.Name)));
        }

        // Full length, end marker overwritten: damaged, not truncated.
        var marker = (byte[])good.Clone();
        marker[^3] ^= 0xFF;
        File.WriteAllBytes(last, marker);
        var m = Cli.Run("train", "--resume", "--run", run, "--epochs", "3");
        Assert.True(m.Code == (int)ExitCode.BadCheckpoint, m.ToString());
        Assert.Contains("the checkpoint is damaged: its end marker fails", m.Err);
        // Cut short: truncated.
        File.WriteAllBytes(last, good[..(good.Length * 2 / 3)]);
        Assert.Contains("the checkpoint is truncated", Cli.Run("train", "--resume", "--run", run, "--epochs", "3").Err);

        // Roll back as the message says, and the run resumes.
        File.Copy(previous, last, overwrite: true);
        var resumed = Cli.Run("train", "--resume", "--run", run, "--epochs", "2");
        Assert.True(resumed.Code == 0, resumed.ToString());
    }
}
