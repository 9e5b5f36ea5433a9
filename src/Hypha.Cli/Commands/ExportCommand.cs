using System.CommandLine;
using Hypha.Export;

namespace Hypha.Cli.Commands;

/// <summary><c>hypha export</c>: a run's trained weights for PyTorch (safetensors) with the model's configuration beside them.</summary>
public static class ExportCommand
{
    /// <summary>The families bench/pytorch/hypha_weights.py has a PyTorch twin of (its <c>build</c>).</summary>
    static readonly string[] PyTorchTwins = ["resnet_vae", "diffusion"];

    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "A trained run folder (with checkpoints/last.ckpt).", Required = true };
        var format = EnumOption.Create<WeightsFormat>("--format", "safetensors: Hugging Face's tensor format, read by PyTorch (safetensors.torch.load_file, bench/pytorch/hypha_weights.py). Default: safetensors.");
        var outFile = new Option<string>("--out") { Description = "Weights file to write, e.g. model.safetensors; the configuration goes beside it as model.json.", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace the weights and configuration files if they exist." };
        var cmd = new Command("export",
            "Write a run's trained weights (a diffusion model's EMA U-Net, the ones that sample; a VAE's encoder and decoder) with PyTorch's names " +
            "in safetensors, and the model's configuration as JSON beside them (and in the file's metadata).")
            { run, format, outFile, overwrite };
        cmd.SetAction(p => CliApp.Guard(_ =>
        {
            var result = ModelExport.Export(p.GetValue(run)!, p.GetValue(outFile)!, p.GetValue(overwrite), p.GetValue(format) ?? WeightsFormat.Safetensors);
            var m = result.Config.Model;
            Console.WriteLine($"wrote {result.File}: {result.Tensors} tensors, {result.Values:N0} values, {result.Weights}");
            Console.WriteLine($"wrote {result.ConfigFile}: {m.Kind} ({m.Descriptor.Architecture(m)}), " +
                              $"{result.Config.Channels}-channel {result.Config.Resolution}x{result.Config.Resolution}");
            if (PyTorchTwins.Contains(m.Kind))
                Console.WriteLine($"PyTorch: python3 bench/pytorch/hypha_weights.py sample --weights {result.File} --count 16 --out samples.safetensors");
            else
                Console.WriteLine($"PyTorch: bench/pytorch/hypha_weights.py builds {string.Join(" and ", PyTorchTwins)} only; load this {m.Kind} state dict " +
                                  "with safetensors.torch.load_file into your own module (names as in the run's checkpoint)");
            return 0;
        }));
        return cmd;
    }
}
