using System.CommandLine;
using Hypha.Runs;
using Hypha.Sampling;
using Spectre.Console;

namespace Hypha.Cli.Commands;

/// <summary><c>hypha baseline</c>: folders of flipped or copied training chunks (or test half B) to score with <c>hypha evaluate --samples</c>.</summary>
public static class BaselineCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "A run folder (its config.json is enough; no checkpoint needed).", Required = true };
        var kind = EnumOption.Create<BaselineKind>("--kind", "flips: training chunks under a random non-identity rotation or mirror each; copies: training chunks as they are; test: test half B as hypha evaluate uses it (reproduces the floors).");
        kind.Required = true;
        var count = new Option<int>("--count") { Description = "Images to write (ignored for --kind test, which writes all of half B). Default: 500.", DefaultValueFactory = _ => 500 };
        var outDir = new Option<string>("--out") { Description = "Folder to write into; must be empty unless --overwrite.", Required = true };
        var seed = new Option<long>("--seed") { Description = "Seed of the picks and transforms, and of the subsets as in hypha evaluate. Default: 0.", DefaultValueFactory = _ => 0 };
        var format = EnumOption.Create<BaselineFormat>("--format", "png8: 8-bit PNG; tiff16: 16-bit TIFF; tiff32: 32-bit float TIFF (exact values). Default: png8.");
        var trainLimit = new Option<int>("--train-limit") { Description = "Training chunks to pick from: the subset hypha evaluate searches for the same --seed and --train-limit (0: all). Default: 2000.", DefaultValueFactory = _ => 2000 };
        var testLimit = new Option<int>("--test-limit") { Description = "For --kind test: test chunks used, as hypha evaluate --test-limit. Default: 1000.", DefaultValueFactory = _ => 1000 };
        var overwrite = new Option<bool>("--overwrite") { Description = "Allow writing into a folder that already holds files; an earlier baseline's baseline_* images there are deleted first." };
        var cmd = new Command("baseline",
            "Write a folder of baseline images made from a run's own chunks (flips, copies of training chunks, or the test half), " +
            "to score with hypha evaluate --run RUN --samples FOLDER beside the model.")
            { run, kind, count, outDir, seed, format, trainLimit, testLimit, overwrite };
        cmd.SetAction(p => CliApp.Guard(_ =>
        {
            var folder = RunFolder.Open(p.GetValue(run)!);
            var k = p.GetValue(kind) ?? BaselineKind.Copies;
            var written = BaselineWriter.Write(folder, k, p.GetValue(count), p.GetValue(outDir)!, p.GetValue(seed),
                p.GetValue(format) ?? BaselineFormat.Png8, p.GetValue(trainLimit), p.GetValue(testLimit), p.GetValue(overwrite),
                m => AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(m)}[/]"));
            AnsiConsole.MarkupLine($"wrote {written.Count:N0} {EnumOption.Spell(k)} images to {Markup.Escape(Path.GetFullPath(p.GetValue(outDir)!))}");
            AnsiConsole.MarkupLine($"score them: hypha evaluate --run {Markup.Escape(folder.Root)} --samples {Markup.Escape(Path.GetFullPath(p.GetValue(outDir)!))}");
            return 0;
        }));
        return cmd;
    }
}
