using System.Text;
using System.Text.Json;
using Hypha.Models;
using Hypha.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Training;

/// <summary>
/// One file holding model weights, optimizer state, RNG state and position in training. Layout: magic, format,
/// header JSON, RNG state, model state dict, optimizer state, for a model with a second network
/// (<see cref="IAuxiliaryModel"/>) an <c>auxiliary</c> section with its weights and optimizer state, end marker. Written atomically (<see cref="AtomicFile"/>);
/// the end marker is checked before anything is loaded, so a truncated file is refused without touching the model.
/// </summary>
public static class Checkpoint
{
    /// <summary>2: weights in <see cref="StateDictFile"/>'s layout (any strides), the optimizer state names its kind
    /// (<see cref="ITrainingOptimizer.Kind"/>); 1: TorchSharp's <c>Module.save</c> and Adam state.</summary>
    public const int CurrentFormat = CheckpointSections.FirstFormat; // 3: sections checksummed (CheckpointSections)
    static readonly byte[] Magic = "HYPHA-CHECKPOINT"u8.ToArray();
    static readonly byte[] EndMarker = "HYPHA-END-OF-CKPT"u8.ToArray();

    /// <summary>Writes a checkpoint atomically, keeping the one it replaces as previous.ckpt. <paramref name="auxiliary"/>
    /// (default none) adds the <see cref="AuxiliaryTraining.Section"/> section: a format-3 reader that does not know it
    /// skips it (the section table lists it), so such checkpoints still sample in an older Hypha.</summary>
    public static void Save(string path, CheckpointHeader header, IGenerativeModel model, ITrainingOptimizer? optimizer, AuxiliaryTraining? auxiliary = null)
    {
        AtomicFile.DeleteStaleTemps(path);
        CheckpointSections.KeepPrevious(path);
        AtomicFile.Write(path, file =>
        {
            var stream = new CheckpointSections.Writer(file);
            using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            w.Write(Magic);
            w.Write(CurrentFormat); // outside the sections: a future format must stay recognisable as such
            stream.Begin(w, "header");
            w.Write(JsonSerializer.Serialize(header with { Format = CurrentFormat }, ConfigJson.Options));
            stream.Begin(w, "rng");
            using (var rng = torch.random.get_rng_state())
            {
                var bytes = rng.data<byte>().ToArray();
                w.Write(bytes.Length);
                w.Write(bytes);
            }
            stream.Begin(w, "weights");
            StateDictFile.Write(w, model.Module);
            stream.Begin(w, "optimizer");
            w.Write(optimizer is not null);
            if (optimizer is not null)
            {
                w.Write(optimizer.Kind);
                optimizer.Save(w);
            }
            if (auxiliary is not null)
            {
                stream.Begin(w, AuxiliaryTraining.Section);
                auxiliary.Save(w);
            }
            stream.WriteTable(w);
            w.Write(EndMarker);
        });
    }

    /// <summary>Reads only the header (for resume decisions and error messages).</summary>
    public static CheckpointHeader ReadHeader(string path)
    {
        using var fs = OpenChecked(path, out _, allSections: false);
        using var r = new BinaryReader(fs, Encoding.UTF8);
        return ReadHeader(r, path);
    }

    /// <summary>
    /// Loads weights (and optimizer and RNG state when <paramref name="optimizer"/> is given, and the second network's
    /// weights and optimizer state when <paramref name="auxiliary"/> is) after checking that the file is complete and
    /// belongs to a model of the same kind and shape. Without <paramref name="auxiliary"/> an auxiliary section is
    /// left alone (sampling does not need a discriminator).
    /// </summary>
    public static CheckpointHeader Load(string path, IGenerativeModel model, ModelOptions expected, int channels, int chunkSize, ITrainingOptimizer? optimizer,
        AuxiliaryTraining? auxiliary = null)
    {
        using var fs = OpenChecked(path, out var sections);
        using var r = new BinaryReader(fs, Encoding.UTF8);
        var header = ReadHeader(r, path);
        if (header.Model.Kind != expected.Kind || expected.Descriptor.Architecture(header.Model) != expected.Descriptor.Architecture(expected))
            throw new HyphaException(ExitCode.BadCheckpoint,
                $"holds a {Describe(header.Model)} model, but the run wants a {Describe(expected)} one", path);
        if (header.Channels != channels || header.ChunkSize != chunkSize)
            throw new HyphaException(ExitCode.BadCheckpoint,
                $"was trained on {header.Channels}-channel {header.ChunkSize}x{header.ChunkSize} chunks, but the run uses {channels}-channel {chunkSize}x{chunkSize}", path);
        try
        {
            var rngBytes = r.ReadBytes(r.ReadInt32());
            if (header.Format >= 2) StateDictFile.Read(r, model.Module);
            else model.Module.load(r, strict: true);
            var hasOptimizer = r.ReadBoolean();
            if (optimizer is not null)
            {
                if (!hasOptimizer) throw new InvalidDataException("it holds no optimizer state, so training cannot resume from it");
                if (header.Format < 2)
                    throw new InvalidDataException("it was written by an earlier Hypha whose optimizer state this version cannot continue; " +
                                                   "it can still be sampled from, or train a new run");
                var kind = r.ReadString();
                if (kind != optimizer.Kind) throw new InvalidDataException($"its optimizer state is {kind}, but this run uses {optimizer.Kind}");
                optimizer.Load(r);
                using var rng = torch.tensor(rngBytes, dtype: ScalarType.Byte);
                torch.random.set_rng_state(rng);
            }
            if (auxiliary is not null)
            {
                var section = sections?.FirstOrDefault(s => s.Name == AuxiliaryTraining.Section)
                              ?? throw new InvalidDataException($"it holds no {auxiliary.Name} (it was written by a run without one), so this run cannot resume from it");
                fs.Seek(section.Offset, SeekOrigin.Begin);
                auxiliary.Load(r);
            }
        }
        catch (Exception e) when (e is not HyphaException)
        {
            throw new HyphaException(ExitCode.BadCheckpoint, $"cannot be loaded: {e.Message}", path, e);
        }
        return header;
    }

    static string Describe(ModelOptions m) => $"{m.Kind} ({m.Descriptor.Architecture(m)})";

    /// <summary>The file, checked, positioned after the magic; <paramref name="sections"/> is its section table (null
    /// before format 3).</summary>
    static FileStream OpenChecked(string path, out IReadOnlyList<CheckpointSections.Section>? sections, bool allSections = true)
    {
        sections = null;
        if (!File.Exists(path)) throw new HyphaException(ExitCode.BadCheckpoint, "no checkpoint here (has the run trained at least one epoch?)", path);
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            if (fs.Length < Magic.Length + EndMarker.Length + 8) throw Truncated(path);
            var head = new byte[Magic.Length];
            fs.ReadExactly(head);
            if (!head.AsSpan().SequenceEqual(Magic))
                throw new HyphaException(ExitCode.BadCheckpoint, "is not a Hypha checkpoint", path);
            // Format 3 on: the end marker, a table of section checksums and the sections (CheckpointSections).
            var format = new byte[4];
            fs.ReadExactly(format);
            if (BitConverter.ToInt32(format) >= CheckpointSections.FirstFormat && BitConverter.ToInt32(format) <= CurrentFormat)
            {
                sections = CheckpointSections.Check(fs, path, EndMarker, allSections);
                fs.Seek(Magic.Length, SeekOrigin.Begin);
                return fs;
            }
            var tail = new byte[EndMarker.Length];
            fs.Seek(-EndMarker.Length, SeekOrigin.End);
            fs.ReadExactly(tail);
            if (!tail.AsSpan().SequenceEqual(EndMarker)) throw Truncated(path);
            if (BitConverter.ToInt32(format) < CheckpointSections.FirstFormat) CheckpointSections.RefuseIfSectioned(fs, path, EndMarker.Length);
            fs.Seek(Magic.Length, SeekOrigin.Begin);
            return fs;
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    static HyphaException Truncated(string path) =>
        new(ExitCode.BadCheckpoint, "the checkpoint is truncated (its end marker is missing): it was cut short while being written or copied", path);

    static CheckpointHeader ReadHeader(BinaryReader r, string path)
    {
        var format = r.ReadInt32();
        if (format > CurrentFormat)
            throw new HyphaException(ExitCode.BadCheckpoint,
                $"has checkpoint format {format}, newer than this Hypha understands ({CurrentFormat}); update Hypha", path);
        if (format < 1) throw new HyphaException(ExitCode.BadCheckpoint, $"has an invalid format number {format}", path);
        try
        {
            return JsonSerializer.Deserialize<CheckpointHeader>(r.ReadString(), ConfigJson.Options)
                   ?? throw new InvalidDataException("empty header");
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or EndOfStreamException)
        {
            throw new HyphaException(ExitCode.BadCheckpoint, $"has an unreadable header: {e.Message}", path, e);
        }
    }
}
