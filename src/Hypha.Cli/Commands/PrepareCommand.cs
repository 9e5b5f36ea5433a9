using System.CommandLine;
using Hypha.Data;
using Hypha.Imaging;
using Hypha.Runs;
using Spectre.Console;

namespace Hypha.Cli.Commands;

/// <summary><c>hypha prepare</c>: read, normalize, cut and split; report per image; optionally export chunks as PNG.</summary>
public static class PrepareCommand
{
    public static Command Create()
    {
        var options = new RunOptions();
        var outDir = new Option<string>("--out") { Description = "Folder for dataset.json, config.json and exported chunks. Default: prepared." };
        var export = new Option<int?>("--export") { Description = "Also write up to N kept chunks per part as PNG under OUT/chunks/{train,validation,test} (0: none, -1: all). Default: 0." };
        var cmd = new Command("prepare", "Read images, normalize, cut chunks, filter and split; report what was kept per image.");
        options.AddTo(cmd);
        cmd.Options.Add(outDir);
        cmd.Options.Add(export);
        cmd.SetAction(p => CliApp.Guard(_ =>
        {
            var config = options.Resolve(p, "thesis");
            var data = DatasetBuilder.Build(config.Data, config.Train.Seed, m => AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(m)}[/]"));
            var dir = p.GetValue(outDir) ?? "prepared";
            Directory.CreateDirectory(dir);
            var summary = DatasetSummary.From(data);
            summary.Write(Path.Combine(dir, "dataset.json"));
            AtomicFile.WriteAllText(Path.Combine(dir, "config.json"), ConfigJson.Serialize(config));
            Report(data, config.Data);
            var n = p.GetValue(export) ?? 0;
            if (n != 0) Export(data, Path.Combine(dir, "chunks"), n);
            Console.WriteLine($"wrote {Path.Combine(dir, "dataset.json")}");
            return 0;
        }));
        return cmd;
    }

    public static void Report(PreparedData data, DataOptions options)
    {
        var table = new Table().AddColumns("image", "size", "cut", "too dark", "too bright", "on boundary", "train", "val", "test");
        foreach (var c in data.Index.PerImage)
            table.AddRow(Markup.Escape(c.Label), $"{c.Width}x{c.Height}", $"{c.Cut}", $"{c.TooDark}", $"{c.TooBright}", $"{c.OnBoundary}",
                $"{c.Train}", $"{c.Validation}", $"{c.Test}");
        var ix = data.Index;
        table.AddRow("[bold]total[/]", "", $"{ix.PerImage.Sum(c => c.Cut)}", $"{ix.PerImage.Sum(c => c.TooDark)}", $"{ix.PerImage.Sum(c => c.TooBright)}",
            $"{ix.PerImage.Sum(c => c.OnBoundary)}", $"{ix.Train.Count}", $"{ix.Validation.Count}", $"{ix.Test.Count}");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"chunks {options.Chunk}x{options.Chunk} at stride {options.Stride}, kept if mean in [[{options.MinMean}, {options.MaxMean}]], " +
                               $"normalize {EnumOption.Spell(options.Normalize)}; split [bold]{EnumOption.Spell(ix.SplitMode)}[/]: {Markup.Escape(ix.SplitReason)}");
        AnsiConsole.MarkupLine($"memory: the normalized images take {Torch.DeviceMemory.Format(data.NormalizedBytes)}" +
                               (data.Memory is { } m ? $" (estimated from the headers before reading: {Torch.DeviceMemory.Format(m.Estimate.PeakBytes)} at the peak of reading); budget {Markup.Escape(m.Budget)} (--memory-budget)" : ""));
        if (ix.Shares is { } shares) AnsiConsole.MarkupLine($"shares: {Markup.Escape(shares.Describe())}");
        if (ix.Stacks.Count > 0)
        {
            AnsiConsole.MarkupLine($"plane stacks: {ix.Stacks.Count} grouped ({ix.Stacks.Sum(s => s.Files.Count)} files), each kept in one part" +
                                   (ix.SplitMode == SplitMode.Regions ? " (the region split holds out the same band of every plane)" : ""));
            foreach (var s in ix.Stacks) AnsiConsole.MarkupLine($"  {Markup.Escape(s.Describe())}");
        }
        if (ix.SplitMode == SplitMode.Chunks)
            AnsiConsole.MarkupLine("[yellow]warning: --split chunks puts overlapping chunks in training and test; test scores will be optimistic[/]");
        foreach (var s in data.Skipped) AnsiConsole.MarkupLine($"[yellow]skipped {Markup.Escape(s.Problem)}[/]");
    }

    static void Export(PreparedData data, string dir, int limit)
    {
        using var bank = new ChunkBank(data, TorchSharp.torch.CPU);
        foreach (var split in Enum.GetValues<DataSplit>())
        {
            var part = data.Index.Part(split);
            var folder = Path.Combine(dir, split.ToString().ToLowerInvariant());
            Directory.CreateDirectory(folder);
            int n = limit < 0 ? part.Count : Math.Min(limit, part.Count);
            for (var i = 0; i < n; i += 256)
            {
                using var scope = TorchSharp.torch.NewDisposeScope();
                var batch = bank.Cut(part, i, Math.Min(256, n - i));
                for (var k = 0; k < batch.shape[0]; k++)
                {
                    var c = part[i + k];
                    var name = $"{i + k:D6}_img{c.Image:D3}_x{c.X}_y{c.Y}.png";
                    AtomicFile.WriteAllBytes(Path.Combine(folder, name), ImageEncoding.Encode(batch[k], ImageFormat.Png8));
                }
            }
            Console.WriteLine($"exported {n} {split.ToString().ToLowerInvariant()} chunks to {folder}");
        }
    }
}
