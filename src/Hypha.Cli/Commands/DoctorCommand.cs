using System.CommandLine;
using Hypha.Reporting;
using Hypha.Torch;
using Spectre.Console;

namespace Hypha.Cli.Commands;

/// <summary><c>hypha doctor</c>: what Hypha runs on, and what is missing.</summary>
public static class DoctorCommand
{
    public static Command Create()
    {
        var cmd = new Command("doctor", "Print the torch backend, libtorch and TorchSharp versions, devices, threads, why CUDA is or is not available, and image/plot support.");
        cmd.SetAction(_ => CliApp.Guard(_ =>
        {
            var table = new Table().AddColumns("what", "value");
            table.AddRow("hypha", typeof(CliApp).Assembly.GetName().Version?.ToString() ?? "?");
            table.AddRow(".NET", Environment.Version.ToString());
            table.AddRow("OS", Markup.Escape(System.Runtime.InteropServices.RuntimeInformation.OSDescription));
            table.AddRow("cores", Environment.ProcessorCount.ToString());
            foreach (var (name, value) in TorchBackend.Describe()) table.AddRow(Markup.Escape(name), Markup.Escape(value));
            table.AddRow("OpenCV", Markup.Escape(OpenCvSharp.Cv2.GetVersionString() ?? "?"));
            table.AddRow("model families", Markup.Escape(string.Join(", ", Hypha.Models.ModelRegistry.All.Select(d => d.Name))));
            table.AddRow("presets", Markup.Escape(string.Join(", ", Hypha.Runs.Presets.All.Keys)));
            table.AddRow("plot fonts", FontResolver.HasFonts() ? FontResolver.Pick() : "[yellow]none found: plots will have no text; install fonts-dejavu-core[/]");
            AnsiConsole.Write(table);
            return 0;
        }));
        return cmd;
    }
}
