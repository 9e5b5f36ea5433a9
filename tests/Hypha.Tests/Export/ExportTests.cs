using System.Text.Json.Nodes;
using Hypha.Export;
using Hypha.Models;
using Hypha.Runs;
using Hypha.Tests.Faults;
using Hypha.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Hypha.Tests.Export;

/// <summary>A tiny VAE run and a tiny diffusion run on a real image, each trained once and exported once (about 5 s).</summary>
public sealed class ExportedRuns : IDisposable
{
    readonly Faults.TempDir _tmp = new();

    public string Vae { get; }
    public string Diffusion { get; }
    public string VaeFile => _tmp.Path("vae.safetensors");
    public string DiffusionFile => _tmp.Path("diffusion.safetensors");

    /// <summary>train options of a width-8, two-level U-Net on 32-pixel chunks (4 denoising steps by default).</summary>
    public static string[] DiffusionArgs(string run) =>
    [
        "train", "--images", Tiny.Image, "--preset", "diffusion-cpu", "--chunk", "32", "--stride", "16", "--width", "8",
        "--channel-mult", "1,2", "--res-blocks", "1", "--attention", "16", "--epoch-size", "64", "--batch", "16",
        "--threads", "1", "--device", "cpu", "--sample-steps", "4", "--epochs", "1", "--run", run,
    ];

    public ExportedRuns()
    {
        Vae = Tiny.Train(_tmp.Path("vae"));
        var d = Faults.Cli.Run(DiffusionArgs(Diffusion = _tmp.Path("diffusion")));
        Assert.True(d.Code == 0, d.ToString());
        foreach (var (run, file) in new[] { (Vae, VaeFile), (Diffusion, DiffusionFile) })
        {
            var r = Faults.Cli.Run("export", "--run", run, "--format", "safetensors", "--out", file);
            Assert.True(r.Code == 0, r.ToString());
        }
    }

    public string Path(params string[] parts) => _tmp.Path(parts);

    public void Dispose() => _tmp.Dispose();
}

/// <summary><c>hypha export</c> and <c>hypha import</c>: the round trip keeps weights and samples, the file is standard
/// safetensors with the config beside and inside it, and bad files or folders are one-line errors that write nothing.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ExportTests(ExportedRuns runs, ITestOutputHelper log) : IClassFixture<ExportedRuns>, IDisposable
{
    readonly Faults.TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    static Tensor Samples(string run, int count, long seed)
    {
        var (_, model, device) = TrainingSession.LoadModel(RunFolder.Open(run), "cpu");
        using (model) return model.Sample(new SampleRequest(count, seed) { Device = device });
    }

    [Theory]
    [InlineData("vae")]
    [InlineData("diffusion")]
    public void Export_then_import_keeps_the_weights_and_the_samples(string family)
    {
        var (run, file) = family == "vae" ? (runs.Vae, runs.VaeFile) : (runs.Diffusion, runs.DiffusionFile);
        var imported = _tmp.Path("imported");
        var r = Faults.Cli.Run("import", "--file", file, "--run", imported);
        Assert.True(r.Code == 0, r.ToString());
        Assert.Contains("(metadata)", r.Out);

        var before = RunCheckpoint.Weights(run);
        var after = RunCheckpoint.Weights(imported);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (key, values) in after)
        {
            // Diffusion: the file holds the EMA network, and both of the imported model's networks start from it.
            var source = family == "diffusion" ? "ema." + key[(key.IndexOf('.') + 1)..] : key;
            Assert.True(before[source].SequenceEqual(values), $"{key} differs from {source}");
        }

        using var a = Samples(run, 5, seed: 11);
        using var b = Samples(imported, 5, seed: 11);
        Assert.True(a.equal(b).all().item<bool>(), "the imported run samples other images for the same seed");
        Assert.Equal(0, Faults.Cli.Run("sample", "--run", run, "--count", "2", "--seed", "4", "--out", _tmp.Path("s1")).Code);
        Assert.Equal(0, Faults.Cli.Run("sample", "--run", imported, "--count", "2", "--seed", "4", "--out", _tmp.Path("s2")).Code);
        // manifest.csv names each run and its checkpoint's hash, which differ by design; the images must not.
        foreach (var f in Directory.GetFiles(_tmp.Path("s1")).Where(f => System.IO.Path.GetFileName(f) != "manifest.csv"))
            Assert.Equal(File.ReadAllBytes(f), File.ReadAllBytes(_tmp.Path("s2", System.IO.Path.GetFileName(f))));

        // The run's configuration travels whole, with the device left to the importing machine.
        var original = RunFolder.Open(run).ReadConfig();
        var copy = RunFolder.Open(imported).ReadConfig();
        Assert.Equal(ConfigJson.Serialize(original with { Train = original.Train with { Device = "auto" } }), ConfigJson.Serialize(copy));
        var record = JsonNode.Parse(File.ReadAllText(_tmp.Path("imported", ModelExport.ImportRecord)))!;
        Assert.Equal(ModelExport.Sha256(file), record["sha256"]!.GetValue<string>());

        // Training cannot resume from weights alone, and says why.
        var resume = Faults.Cli.Run("train", "--run", imported, "--resume");
        Assert.Equal((int)ExitCode.BadCheckpoint, resume.Code);
        Assert.Contains("no optimizer state", resume.Err);
    }

    [Fact]
    public void The_file_is_safetensors_with_PyTorch_names_and_the_config_beside_and_inside()
    {
        using var content = SafetensorsFile.Read(runs.DiffusionFile);
        // The U-Net's own names (bench/pytorch/diffusion_ref.py), no net./ema. prefix.
        Assert.Contains("conv_in.weight", content.Tensors.Keys);
        Assert.Contains("mid.attn.qkv.weight", content.Tensors.Keys);
        Assert.DoesNotContain(content.Tensors.Keys, k => k.StartsWith("ema.") || k.StartsWith("net."));
        var beside = ExportedConfig.Parse(File.ReadAllText(System.IO.Path.ChangeExtension(runs.DiffusionFile, ".json")), "beside");
        var inside = ExportedConfig.Parse(content.Metadata[ModelExport.MetadataKey], "metadata");
        Assert.Equal(beside.ToJson(), inside.ToJson());
        Assert.Equal("pt", content.Metadata["format"]);
        Assert.Equal(32, inside.Resolution);
        Assert.Contains("EMA", inside.Weights);
        Assert.Equal(ModelExport.Sha256(RunCheckpoint.Path(runs.Diffusion)), inside.Source!.CheckpointSha256);

        // The VAE's names are the PyTorch reference's (bench/pytorch/state_dict_keys.txt lists the 248 of ResNetVae; the order is TorchSharp's).
        using var vae = SafetensorsFile.Read(runs.VaeFile);
        var reference = File.ReadAllLines(RepoFile("bench", "pytorch", "state_dict_keys.txt"));
        Assert.Equal(reference.Order(StringComparer.Ordinal), vae.Tensors.Keys.Order(StringComparer.Ordinal));

        // The layout itself: header length, JSON header padded to 8 bytes, byte ranges that tile the data section.
        var bytes = File.ReadAllBytes(runs.VaeFile);
        var n = (long)BitConverter.ToUInt64(bytes, 0);
        Assert.Equal(0, n % 8);
        var header = JsonNode.Parse(bytes.AsSpan(8, (int)n))!.AsObject();
        var ranges = header.Where(kv => kv.Key != "__metadata__").Select(kv => kv.Value!["data_offsets"]!.AsArray().Select(v => v!.GetValue<long>()).ToArray())
            .OrderBy(r => r[0]).ToList();
        Assert.Equal(0, ranges[0][0]);
        for (var i = 1; i < ranges.Count; i++) Assert.Equal(ranges[i - 1][1], ranges[i][0]);
        Assert.Equal(bytes.Length - 8 - n, ranges[^1][1]);
        Assert.Equal("F32", header["encoder.stem_conv.weight"]!["dtype"]!.GetValue<string>());
        Assert.Equal("I64", header["encoder.stem_bn.num_batches_tracked"]!["dtype"]!.GetValue<string>());
    }

    [Fact]
    public void Export_refuses_to_replace_files_unless_asked()
    {
        var file = _tmp.Path("m.safetensors");
        Assert.Equal(0, Faults.Cli.Run("export", "--run", runs.Vae, "--out", file).Code);
        var first = File.ReadAllBytes(file);
        var again = Faults.Cli.Run("export", "--run", runs.Vae, "--out", file);
        Assert.Equal((int)ExitCode.OutputError, again.Code);
        Assert.Contains("already exists", again.Err);
        Assert.Single(again.Err.Trim().Split('\n'));
        Assert.Equal(first, File.ReadAllBytes(file));
        Assert.Equal(0, Faults.Cli.Run("export", "--run", runs.Diffusion, "--out", file, "--overwrite").Code);
        Assert.NotEqual(first, File.ReadAllBytes(file));
        Assert.Equal(["m.json", "m.safetensors"], Directory.GetFiles(_tmp.Root).Select(System.IO.Path.GetFileName).Order());

        var json = Faults.Cli.Run("export", "--run", runs.Vae, "--out", _tmp.Path("m.json"));
        Assert.Equal((int)ExitCode.InvalidConfig, json.Code);
        var noRun = Faults.Cli.Run("export", "--run", _tmp.Path("none"), "--out", _tmp.Path("x.safetensors"));
        Assert.Equal((int)ExitCode.BadCheckpoint, noRun.Code);
        var format = Faults.Cli.Run("export", "--run", runs.Vae, "--format", "onnx", "--out", _tmp.Path("x.safetensors"));
        Assert.Equal((int)ExitCode.InvalidConfig, format.Code);
        Assert.Contains("safetensors", format.Err);
        Assert.False(File.Exists(_tmp.Path("x.safetensors")));
    }

    /// <summary>Each bad input: exit code, one line naming the file and the problem, and no run folder left.</summary>
    void Refused(ExitCode code, string expected, params string[] args)
    {
        var target = _tmp.Path("target-" + Guid.NewGuid().ToString("N")[..6]);
        var r = Faults.Cli.Run(["import", "--run", target, .. args]);
        Assert.True(r.Code == (int)code, r.ToString());
        Assert.Contains(expected, r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.False(Directory.Exists(target), "a refused import left a folder");
    }

    [Fact]
    public void Import_names_the_first_mismatch_and_writes_nothing()
    {
        // Another width: the first tensor of the model's order that differs is named with both shapes.
        var wider = _tmp.Path("wider.json");
        var config = JsonNode.Parse(File.ReadAllText(System.IO.Path.ChangeExtension(runs.VaeFile, ".json")))!;
        config["model"]!["width"] = 8;
        config.AsObject().Remove("run");
        File.WriteAllText(wider, config.ToJsonString());
        Refused(ExitCode.BadCheckpoint, "encoder.stem_conv.weight is [4, 1, 7, 7], the model's is [8, 1, 7, 7]", "--file", runs.VaeFile, "--config", wider);

        // A tensor renamed (as a wrapper module would): the missing one is named, with the prefix to strip.
        var renamed = _tmp.Path("renamed.safetensors");
        using (var content = SafetensorsFile.Read(runs.VaeFile))
        {
            var tensors = content.Tensors.Select(kv => (kv.Key == "decoder.head.bias" ? "module.decoder.head.bias" : kv.Key, kv.Value)).ToList();
            using var fs = File.Create(renamed);
            SafetensorsFile.Write(fs, tensors, content.Metadata);
        }
        Refused(ExitCode.BadCheckpoint, "has no tensor decoder.head.bias, which the model needs (it holds module.decoder.head.bias", "--file", renamed);

        // A diffusion file under a VAE's config; a truncated file; a text file; no config anywhere.
        Refused(ExitCode.BadCheckpoint, "has no tensor encoder.stem_conv.weight", "--file", runs.DiffusionFile,
            "--config", System.IO.Path.ChangeExtension(runs.VaeFile, ".json"));
        var truncated = _tmp.Path("truncated.safetensors");
        File.WriteAllBytes(truncated, File.ReadAllBytes(runs.VaeFile)[..^1000]);
        Refused(ExitCode.BadCheckpoint, "lie outside the file", "--file", truncated);
        var text = _tmp.Path("text.safetensors");
        File.WriteAllText(text, "not a weights file at all");
        Refused(ExitCode.BadCheckpoint, "announce", "--file", text);
        var twice = _tmp.Path("twice.safetensors");
        var json = System.Text.Encoding.UTF8.GetBytes("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""");
        File.WriteAllBytes(twice, [.. BitConverter.GetBytes((ulong)json.Length), .. json, 0, 0, 0, 0]);
        Refused(ExitCode.BadCheckpoint, "not valid JSON", "--file", twice);
        var bare = _tmp.Path("bare.safetensors");
        using (var content = SafetensorsFile.Read(runs.VaeFile))
        using (var fs = File.Create(bare))
            SafetensorsFile.Write(fs, content.Tensors.Select(kv => (kv.Key, kv.Value)).ToList());
        Refused(ExitCode.BadCheckpoint, "pass --config", "--file", bare);
        Refused(ExitCode.BadCheckpoint, "no such file", "--file", _tmp.Path("missing.safetensors"));

        // The same bare file with a config that only names the model imports, with default data settings.
        var minimal = _tmp.Path("minimal.json");
        File.WriteAllText(minimal, """{"model": {"kind": "resnet_vae", "width": 4, "latent": 8}, "channels": 1, "resolution": 32}""");
        var ok = Faults.Cli.Run("import", "--file", bare, "--config", minimal, "--run", _tmp.Path("from-bare"));
        Assert.True(ok.Code == 0, ok.ToString());
        Assert.Equal("imported", RunFolder.Open(_tmp.Path("from-bare")).ReadConfig().Preset);
        using var a = Samples(runs.Vae, 3, 2);
        using var b = Samples(_tmp.Path("from-bare"), 3, 2);
        Assert.True(a.equal(b).all().item<bool>());
    }

    [Fact]
    public void Import_never_replaces_a_trained_run_and_replaces_an_import_only_when_asked()
    {
        var files = Faults.TempDir.FilesUnder(runs.Vae);
        var plain = Faults.Cli.Run("import", "--file", runs.VaeFile, "--run", runs.Vae);
        Assert.Equal((int)ExitCode.OutputError, plain.Code);
        Assert.Contains("already holds files", plain.Err);
        var trained = Faults.Cli.Run("import", "--file", runs.VaeFile, "--run", runs.Vae, "--overwrite");
        Assert.Equal((int)ExitCode.OutputError, trained.Code);
        Assert.Contains("holds a trained run", trained.Err);
        Assert.Equal(files, Faults.TempDir.FilesUnder(runs.Vae));

        var target = _tmp.Path("imp");
        Assert.Equal(0, Faults.Cli.Run("import", "--file", runs.VaeFile, "--run", target).Code);
        var again = Faults.Cli.Run("import", "--file", runs.DiffusionFile, "--run", target);
        Assert.Equal((int)ExitCode.OutputError, again.Code);
        Assert.Contains("--overwrite", again.Err);
        Assert.Equal("resnet_vae", RunFolder.Open(target).ReadConfig().Model.Kind);
        var replaced = Faults.Cli.Run("import", "--file", runs.DiffusionFile, "--run", target, "--overwrite");
        Assert.True(replaced.Code == 0, replaced.ToString());
        Assert.Equal("diffusion", RunFolder.Open(target).ReadConfig().Model.Kind);
        Assert.False(File.Exists(CheckpointSections.PreviousOf(RunCheckpoint.Path(target))), "the earlier import's weights were kept as previous.ckpt");
    }

    /// <summary>A Hypha weight file of another precision (as PyTorch's <c>.half()</c> makes) is converted on import.</summary>
    [Fact]
    public void Import_converts_other_float_precisions()
    {
        var half = _tmp.Path("half.safetensors");
        using (var content = SafetensorsFile.Read(runs.VaeFile))
        using (var fs = File.Create(half))
        using (var scope = NewDisposeScope())
            SafetensorsFile.Write(fs, content.Tensors.Select(kv => (kv.Key, kv.Value.is_floating_point() ? kv.Value.to_type(ScalarType.Float64) : kv.Value)).ToList(), content.Metadata);
        var r = Faults.Cli.Run("import", "--file", half, "--run", _tmp.Path("f64"));
        Assert.True(r.Code == 0, r.ToString());
        Assert.Equal(RunCheckpoint.Weights(runs.Vae)["decoder.head.weight"], RunCheckpoint.Weights(_tmp.Path("f64"))["decoder.head.weight"]);
    }

    /// <summary>
    /// The PyTorch side (bench/pytorch/hypha_weights.py, reusing resnet_vae.py and diffusion_ref.py) loads the exported
    /// files and makes the same images as Hypha to 1e-4: the VAE decoder on the same latents, DDIM from the same x_T,
    /// and sampling from Hypha's seeds alone; a file it writes back imports into Hypha and samples the same images.
    /// Runs where a python3 has torch (Debian: apt-get install python3-torch), skipped with the reason elsewhere.
    /// </summary>
    [SkippableFact]
    public void PyTorch_decodes_the_same_latents_to_the_same_images()
    {
        Skip.If(PyTorch.Value.Python is null, PyTorch.Value.Note);
        log.WriteLine($"{PyTorch.Value.Python}: torch {PyTorch.Value.Note}");
        const int n = 6;
        const long seed = 9;

        // VAE: the decoder of the same latents, through the command line of hypha_weights.py.
        using var g = new Generator(3);
        using var z = randn([n, 8], generator: g);
        using var vaeHypha = Decode(runs.Vae, z);
        using (var vaeTorch = Python("decode", runs.VaeFile, z))
            Close("VAE decoder", vaeHypha, vaeTorch);

        // The rest through the module's API, in one process (a python start with torch costs about 2 s of CPU): the VAE
        // prior from Hypha's seed; diffusion DDIM (the model's 4 steps, eta 0) from the x_T Hypha's sampler draws for the
        // seed, and from the seed alone; and the diffusion weights written back by hw.save.
        var generators = Hypha.Models.Diffusion.SampleNoise.Generators(seed, 0, n);
        using var xT = Hypha.Models.Diffusion.SampleNoise.Draw(generators, [1, 32, 32]);
        foreach (var gen in generators) gen.Dispose();
        var (latents, images, resaved) = (_tmp.Path("xT.safetensors"), _tmp.Path("images.safetensors"), _tmp.Path("resaved.safetensors"));
        using (var fs = File.Create(latents)) SafetensorsFile.Write(fs, [("latents", xT)]);
        const string driver = """
            import sys
            sys.path.insert(0, sys.argv[1])
            import hypha_weights as hw
            vae_file, dif_file, latents, out, resaved, n, seed = sys.argv[2:9]
            n, seed = int(n), int(seed)
            vae, vc = hw.load(vae_file)
            dif, dc = hw.load(dif_file)
            x_t = hw.read_safetensors(latents)[0]["latents"]
            hw.write_safetensors(out, {"vae_prior": hw.sample(vae, vc, n, seed), "dif_decode": hw.decode(dif, dc, x_t),
                                       "dif_sample": hw.sample(dif, dc, n, seed)})
            hw.save(dif, dc, resaved)
            """;
        RunPython(["-c", driver, Path.GetDirectoryName(RepoFile("bench", "pytorch", "hypha_weights.py"))!, runs.VaeFile, runs.DiffusionFile,
            latents, images, resaved, $"{n}", $"{seed}"]);
        using var torch = SafetensorsFile.Read(images);
        using (var prior = Samples(runs.Vae, n, seed))
            Close("VAE prior samples from Hypha's seed", prior, torch.Tensors["vae_prior"]);
        using var hypha = Samples(runs.Diffusion, n, seed);
        Close("diffusion DDIM from the same x_T", hypha, torch.Tensors["dif_decode"]);
        Close("diffusion samples from Hypha's seed", hypha, torch.Tensors["dif_sample"]);

        // Back: the file PyTorch wrote (weights and config through hw.save) imports and samples the same images.
        var r = Faults.Cli.Run("import", "--file", resaved, "--run", _tmp.Path("from-torch"));
        Assert.True(r.Code == 0, r.ToString());
        using var back = Samples(_tmp.Path("from-torch"), n, seed);
        Assert.True(back.equal(hypha).all().item<bool>(), "the weights PyTorch wrote back sample other images");
    }

    static Tensor Decode(string run, Tensor z)
    {
        var (_, model, device) = TrainingSession.LoadModel(RunFolder.Open(run), "cpu");
        using (model) return VaeMath.DecodeBatches(model.Require<IEncoderModel>("decode"), z, device);
    }

    void Close(string what, Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        var diff = (expected - actual).abs().max().item<float>();
        log.WriteLine($"{what}: max |Hypha - PyTorch| = {diff:E2}");
        Assert.True(diff <= 1e-4, $"{what}: images differ by up to {diff} (more than 1e-4)");
    }

    /// <summary>hypha_weights.py MODE --weights FILE [--latents L] --out O (its command line); returns the images it wrote.</summary>
    Tensor Python(string mode, string weights, Tensor? latents, params string[] extra)
    {
        var id = Guid.NewGuid().ToString("N")[..6];
        var output = _tmp.Path($"py-{id}.safetensors");
        var args = new List<string> { RepoFile("bench", "pytorch", "hypha_weights.py"), mode, "--weights", weights, "--out", output, "--threads", "1" };
        if (latents is not null)
        {
            var input = _tmp.Path($"latents-{id}.safetensors");
            using (var fs = File.Create(input)) SafetensorsFile.Write(fs, [("latents", latents)]);
            args.AddRange(["--latents", input]);
        }
        RunPython([.. args, .. extra]);
        using var content = SafetensorsFile.Read(output);
        return content.Tensors["images"].clone();
    }

    /// <summary>python3 ARGS (a script and its arguments, or -c CODE ...); fails the test with its stderr.</summary>
    void RunPython(params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(PyTorch.Value.Python!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(120_000), "python3 took over 2 minutes");
        Assert.True(p.ExitCode == 0, $"python3 {string.Join(' ', args)}: exit {p.ExitCode}\n{err.Result}\n{stdout}");
    }

    /// <summary>The first of $HYPHA_PYTHON, python3 and /usr/bin/python3 that imports torch, with its version; or none and why.</summary>
    static readonly Lazy<(string? Python, string Note)> PyTorch = new(() =>
    {
        var tried = new List<string>();
        foreach (var python in new[] { Environment.GetEnvironmentVariable("HYPHA_PYTHON"), "python3", "/usr/bin/python3" }.OfType<string>().Where(s => s.Length > 0).Distinct())
        {
            try
            {
                var psi = new System.Diagnostics.ProcessStartInfo(python, ["-c", "import torch; print(torch.__version__)"]) { RedirectStandardOutput = true, RedirectStandardError = true };
                using var p = System.Diagnostics.Process.Start(psi)!;
                var err = p.StandardError.ReadToEndAsync();
                var version = p.StandardOutput.ReadToEnd().Trim();
                if (!p.WaitForExit(60_000)) { p.Kill(); tried.Add($"{python}: no answer in 60 s"); continue; }
                if (p.ExitCode == 0) return (python, version);
                tried.Add($"{python}: {err.Result.Trim().Split('\n')[^1]}");
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                tried.Add($"{python}: {e.Message}");
            }
        }
        return (null, $"no python3 with torch here ({string.Join("; ", tried)}); on Debian: apt-get install python3-torch");
    });

    internal static string RepoFile(params string[] parts)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Hypha.sln"))) dir = dir.Parent;
        Assert.NotNull(dir);
        return System.IO.Path.Combine([dir!.FullName, .. parts]);
    }
}
