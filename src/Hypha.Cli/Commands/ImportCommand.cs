using System.CommandLine;
using Hypha.Export;

namespace Hypha.Cli.Commands;

/// <summary><c>hypha import</c>: a safetensors weights file (from <c>hypha export</c> or PyTorch) into a run folder that sample can use.</summary>
public static class ImportCommand
{
    public static Command Create()
    {
        var file = new Option<string>("--file") { Description = "The safetensors weights file (from hypha export, or saved in PyTorch with the same names).", Required = true };
        var config = new Option<string>("--config") { Description = "The model's JSON (an export's NAME.json, or a run's config.json). Default: the file's metadata, else NAME.json beside it." };
        var run = new Option<string>("--run") { Description = "Run folder to create (new or empty).", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an earlier import in --run (never a trained run)." };
        var cmd = new Command("import",
            "Make a run folder from a weights file: config.json and checkpoints/last.ckpt, so that sample (and, with the source images, " +
            "reconstruct and evaluate) work on it. The weights must fit the model exactly; the first mismatching tensor is named.")
            { file, config, run, overwrite };
        cmd.SetAction(p => CliApp.Guard(_ =>
        {
            var result = ModelExport.Import(p.GetValue(file)!, p.GetValue(run)!, p.GetValue(config), p.GetValue(overwrite));
            var m = result.Config.Model;
            Console.WriteLine($"imported {result.Tensors} tensors into {result.Run.Root}: {m.Kind} " +
                              $"({m.Descriptor.Architecture(m)}), configuration from {result.ConfigSource}");
            Console.WriteLine($"sample from it: hypha sample --run {result.Run.Root} --count 64 --out samples");
            return 0;
        }));
        return cmd;
    }
}
