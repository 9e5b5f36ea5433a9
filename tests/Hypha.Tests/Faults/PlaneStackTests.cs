using System.Text.Json;
using Hypha.Data;
using Hypha.Imaging;

namespace Hypha.Tests.Faults;

/// <summary>
/// Issue 15, "the same picture twice": z-stacks given as one file per plane. Neighbouring focal planes are near-duplicates,
/// so a stack's planes are recognised (a z/plane index in the names, or a numbered series whose neighbours are
/// near-identical) and kept in one part of the split; prepare says how many stacks it grouped.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class PlaneStackTests : IDisposable
{
    readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    static NormalizedImage Noise(string path, int seed, int w = 64, int h = 48)
    {
        var r = new Random(seed);
        var data = new float[w * h];
        for (var i = 0; i < data.Length; i++) data[i] = r.NextSingle();
        return new NormalizedImage(Path.GetFileName(path), path, 0, w, h, 1, data);
    }

    [Fact]
    public void Files_named_with_a_z_or_plane_index_are_one_stack_whatever_they_show()
    {
        var seed = 0;
        NormalizedImage N(string name, int w = 64) => Noise("/data/" + name, seed++, w);
        var images = new List<NormalizedImage>();
        images.AddRange(Enumerable.Range(0, 6).Select(z => N($"emb_t0_z{z}_c0.png")));   // OME-style t/z/c
        images.AddRange(Enumerable.Range(0, 6).Select(z => N($"emb_t0_z{z}_c1.png")));   // another channel: its own stack
        images.AddRange(Enumerable.Range(1, 3).Select(z => N($"cellA-Z{z}.tif")));
        images.AddRange(Enumerable.Range(8, 3).Select(z => N($"root_plane{z}.png")));
        images.AddRange(Enumerable.Range(0, 3).Select(z => N($"leaf_z{z:D2}.png")));
        images.Add(N("leaf_z03.png", w: 80)); // another size: not a plane of that stack
        images.AddRange(Enumerable.Range(1, 5).Select(i => N($"field{i:D2}.png"))); // a numbered series of unrelated fields
        images.AddRange(Enumerable.Range(1, 2).Select(i => N($"Dz{i}.png")));       // "z" inside a word is no marker

        var stacks = PlaneStacks.Find(images);
        var byFirst = stacks.ToDictionary(s => Path.GetFileName(s.Files[0]), s => s.Files.Select(f => Path.GetFileName(f)).ToArray());
        Assert.Equal(5, stacks.Count);
        Assert.Equal(Enumerable.Range(0, 6).Select(z => $"emb_t0_z{z}_c0.png"), byFirst["emb_t0_z0_c0.png"]);
        Assert.Equal(Enumerable.Range(0, 6).Select(z => $"emb_t0_z{z}_c1.png"), byFirst["emb_t0_z0_c1.png"]);
        Assert.Equal(new[] { "cellA-Z1.tif", "cellA-Z2.tif", "cellA-Z3.tif" }, byFirst["cellA-Z1.tif"]);
        Assert.Equal(new[] { "root_plane8.png", "root_plane9.png", "root_plane10.png" }, byFirst["root_plane8.png"]); // numeric order
        Assert.Equal(new[] { "leaf_z00.png", "leaf_z01.png", "leaf_z02.png" }, byFirst["leaf_z00.png"]);
        Assert.All(stacks, s => Assert.Equal(PlaneStacks.Named, s.How));
    }

    [Fact]
    public void Numbered_neighbours_join_when_they_look_alike_and_stay_apart_when_they_do_not()
    {
        var a = Noise("/d/img001.png", 1);
        var near = a with { Source = "/d/img002.png", Data = a.Data.Select((v, i) => v * 0.9f + 0.05f * (i % 3)).ToArray() };
        var far = Noise("/d/img003.png", 3);
        var stacks = PlaneStacks.Find([a, near, far]);
        var s = Assert.Single(stacks);
        Assert.Equal(["/d/img001.png", "/d/img002.png"], s.Files);
        Assert.Equal(PlaneStacks.Similar, s.How);
    }

    static NormalizedImage[] Read(string path) =>
        ImageReader.Read(path).Select(r => Normalization.Apply(r.To(ChannelMode.Gray), NormalizeMode.Standardize)).ToArray();

    static double[] Neighbours(IReadOnlyList<NormalizedImage> planes)
    {
        var t = planes.Select(PlaneStacks.Thumbnail).ToArray();
        return Enumerable.Range(1, t.Length - 1).Select(i => PlaneStacks.Correlation(t[i - 1], t[i])).ToArray();
    }

    /// <summary>The threshold sits between what real neighbouring focal planes and real independent fields give.</summary>
    [Fact]
    public void Real_neighbouring_planes_correlate_above_the_threshold_and_independent_fields_below()
    {
        var lightSheet = Directory.GetFiles(SharedData.Path("dfnn_lightsheet_zstack"), "*.tif").Order().SelectMany(Read).ToArray();
        var leaf = Directory.GetFiles(SharedData.Path("focus_stack_leaf"), "*.png").Order().SelectMany(Read).ToArray();
        var embryo = Read(SharedData.Path("morpholibj_arabidopsis_embryo", "arabidopsis-embryo.tif")); // a 106-plane z-stack in one file
        foreach (var stack in new[] { lightSheet, leaf, embryo })
            Assert.All(Neighbours(stack), c => Assert.InRange(c, PlaneStacks.SimilarCorrelation, 1.0));

        // Independent fields: U2OS nuclei fields of view, and 12 tiles of one AMF root image (same look, other places).
        var fields = Directory.GetFiles(SharedData.Path("bbbc039_u2os_nuclei"), "*.tif").Order().SelectMany(Read).ToArray();
        var roots = Read(BadFiles.Jpeg)[0];
        var tiles = new List<NormalizedImage>();
        for (var ty = 0; ty < 3; ty++)
        for (var tx = 0; tx < 4; tx++)
        {
            var d = new float[400 * 360];
            for (var y = 0; y < 360; y++) Array.Copy(roots.Data, (ty * 360 + y) * roots.Width + tx * 400, d, y * 400, 400);
            tiles.Add(roots with { Width = 400, Height = 360, Data = d });
        }
        foreach (var set in new[] { fields, tiles.ToArray() })
        {
            var t = set.Select(PlaneStacks.Thumbnail).ToArray();
            for (var i = 0; i < t.Length; i++)
            for (var j = i + 1; j < t.Length; j++)
                Assert.True(PlaneStacks.Correlation(t[i], t[j]) < PlaneStacks.SimilarCorrelation - 0.1, $"fields {i} and {j} correlate at {PlaneStacks.Correlation(t[i], t[j]):F3}");
        }
    }

    static Dictionary<string, DataSplit[]> PartsByImage(string datasetJson)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(datasetJson));
        return json.RootElement.GetProperty("images").EnumerateArray().ToDictionary(
            i => i.GetProperty("label").GetString()!,
            i => new[] { ("train", DataSplit.Train), ("validation", DataSplit.Validation), ("test", DataSplit.Test) }
                .Where(p => i.GetProperty(p.Item1).GetInt32() > 0).Select(p => p.Item2).ToArray());
    }

    [Fact]
    public void Real_focal_plane_series_are_grouped_and_each_kept_in_one_part()
    {
        // 13 light-sheet planes (...Abs0039.tif to ...Abs0063.tif), 6 focus planes of a leaf (01sm.png to 06sm.png) and
        // 5 independent fields of view of nuclei: 7 units for the image split, not 24 files.
        var dir = Directory.CreateDirectory(_tmp.Path("mixed")).FullName;
        var planes = Directory.GetFiles(SharedData.Path("dfnn_lightsheet_zstack"), "*.tif").Order().ToArray();
        var leaf = Directory.GetFiles(SharedData.Path("focus_stack_leaf"), "*.png").Order().ToArray();
        var fields = Directory.GetFiles(SharedData.Path("bbbc039_u2os_nuclei"), "*.tif").Order().Take(5).ToArray();
        foreach (var f in planes.Concat(leaf).Concat(fields)) BadFiles.Copy(f, dir);

        var outDir = _tmp.Path("prepared");
        var r = Cli.Run("prepare", "--preset", "cpu", "--images", dir, "--chunk", "64", "--stride", "64", "--out", outDir);
        Assert.True(r.Code == 0, r.ToString());
        Assert.Contains("plane stacks: 2 grouped (19 files)", r.Out);
        Assert.Contains("24 source files in 7 units", r.Out);

        using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "dataset.json"))))
        {
            Assert.Equal("images", json.RootElement.GetProperty("split_mode").GetString());
            var stacks = json.RootElement.GetProperty("stacks").EnumerateArray()
                .Select(s => s.GetProperty("files").EnumerateArray().Select(f => Path.GetFileName(f.GetString()!)).ToArray()).ToList();
            Assert.Equal(2, stacks.Count);
            Assert.Contains(stacks, s => s.SequenceEqual(planes.Select(Path.GetFileName)));
            Assert.Contains(stacks, s => s.SequenceEqual(leaf.Select(Path.GetFileName)));
        }
        var parts = PartsByImage(Path.Combine(outDir, "dataset.json"));
        foreach (var stack in new[] { planes, leaf })
        {
            var used = stack.SelectMany(f => parts[Path.GetFileName(f)]).Distinct().ToList();
            Assert.True(used.Count == 1, $"the planes of {Path.GetFileName(stack[0])} landed in {string.Join(", ", used)}");
        }
    }

    [Fact]
    public void A_run_made_before_stacks_were_recognised_keeps_its_split()
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(Hypha.Runs.ConfigJson.Serialize(Hypha.Runs.Presets.Cpu))!.AsObject();
        Assert.True(json["data"]!["plane_stacks"]!.GetValue<bool>());
        json["format"] = 2;
        json["data"]!.AsObject().Remove("plane_stacks");
        var old = Hypha.Runs.ConfigJson.Deserialize(json.ToJsonString());
        Assert.False(old.Data.PlaneStacks);
        Assert.Equal(Hypha.Runs.RunConfig.CurrentFormat, old.Format);

        var data = DatasetBuilder.Build(old.Data with { Images = [SharedData.Path("dfnn_lightsheet_zstack")], Chunk = 64, Stride = 64 }, old.Train.Seed);
        Assert.Empty(data.Index.Stacks);
        Assert.Equal(SplitMode.Images, data.Index.SplitMode); // 13 files, as it was split before
    }

    [Fact]
    public void A_single_stack_of_planes_is_one_unit_and_falls_back_to_the_region_split()
    {
        var r = Cli.Run("prepare", "--preset", "cpu", "--images", SharedData.Path("dfnn_lightsheet_zstack"), "--chunk", "64", "--stride", "64",
            "--out", _tmp.Path("prepared"));
        Assert.True(r.Code == 0, r.ToString());
        Assert.Contains("plane stacks: 1 grouped (13 files)", r.Out);
        Assert.Contains("the region split holds out the same band of every plane", r.Out);
        using var json = JsonDocument.Parse(File.ReadAllText(_tmp.Path("prepared", "dataset.json")));
        Assert.Equal("regions", json.RootElement.GetProperty("split_mode").GetString());

        var e = Cli.Run("prepare", "--preset", "cpu", "--images", SharedData.Path("dfnn_lightsheet_zstack"), "--chunk", "64", "--stride", "64",
            "--split", "images", "--out", _tmp.Path("prepared2"));
        Assert.True(e.Code == (int)ExitCode.InvalidConfig, e.ToString());
        Assert.Contains("needs at least 3 source units (got 1: 13 files, 1 plane stack(s)", e.Err);
    }
}
