using System.CommandLine;
using Hypha.Data;
using Hypha.Imaging;
using Hypha.Models;
using Hypha.Runs;
using Hypha.Sampling;
using Hypha.Training;

namespace Hypha.Cli.Commands;

/// <summary><c>hypha reconstruct</c>: pairs of original and reconstructed chunks.</summary>
public static class ReconstructCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "A trained run folder.", Required = true };
        var images = new Option<string[]>("--images") { Description = "Images to cut with the run's settings. Default: the run's own test part.", AllowMultipleArgumentsPerToken = true };
        var outDir = new Option<string>("--out") { Description = "Folder to write into; must be empty unless --overwrite.", Required = true };
        var count = new Option<int>("--count") { Description = "At most this many chunks, spread evenly (0: all). Default: 200.", DefaultValueFactory = _ => 200 };
        var format = OutputOptions.Format("two paired stacks, originals.tif and reconstructions.tif (slice i of each is row i of chunks.csv)");
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N. Default: the run's." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Allow writing into a folder that already holds files." };
        var precision = EnumOption.Create<Training.Precision>("--precision", "fp32 or bf16 encoding and decoding. Default: fp32.");
        var cmd = new Command("reconstruct", "Write NNNNNN_orig / NNNNNN_recon pairs (or two paired TIFF stacks), side-by-side grids and chunks.csv.")
            { run, images, outDir, count, format, device, overwrite, precision };
        cmd.SetAction(p => CliApp.Guard(_ =>
        {
            var folder = RunFolder.Open(p.GetValue(run)!);
            using var session = TrainingSession.OpenTrained(folder, p.GetValue(device));
            var given = p.GetValue(images);
            PreparedData data;
            ChunkBank bank;
            if (given is { Length: > 0 })
            {
                data = DatasetBuilder.Build(session.Config.Data with { Images = given }, session.Config.Train.Seed, split: false);
                bank = new ChunkBank(data, session.Device);
            }
            else
            {
                data = session.Data.Only(DataSplit.Test);
                bank = session.Bank;
            }
            try
            {
                using var hold = RunLock.ForOutput(p.GetValue(outDir)!); // one writer per output folder
                using var compute = (session.Config.Train with { Precision = p.GetValue(precision) ?? Training.Precision.Fp32 }).ComputeScope(session.Device);
                var n = ReconstructionWriter.Write(session.Model.Require<Models.IEncoderModel>("reconstruct chunks (it has no encoder)"), bank, data, p.GetValue(outDir)!, p.GetValue(count),
                    p.GetValue(format) ?? ImageFormat.Png8, overwrite: p.GetValue(overwrite), progress: k => Console.Write($"\rreconstructed {k}"));
                Console.WriteLine((p.GetValue(format) ?? ImageFormat.Png8).IsStack()
                    ? $"\nwrote {n} pairs as originals.tif and reconstructions.tif, grids and chunks.csv to {p.GetValue(outDir)}"
                    : $"\nwrote {n} pairs, grids and chunks.csv to {p.GetValue(outDir)}");
            }
            finally
            {
                if (!ReferenceEquals(bank, session.Bank)) bank.Dispose();
            }
            return 0;
        }));
        return cmd;
    }
}
