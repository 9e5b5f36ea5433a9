using static TorchSharp.torch;

namespace Hypha.Training;

/// <summary>
/// A module's state dict in a checkpoint: per entry its name, dtype, shape and values in logical (row-major) order,
/// whatever the strides in memory. TorchSharp's own <c>Module.save</c>/<c>load</c> refuse non-contiguous tensors, and
/// Hypha keeps convolution weights channels-last while training (<see cref="Models.Layers.Autocast.StoreChannelsLast"/>);
/// loading copies into the model's tensors as they are, so a channels-last checkpoint loads into a channels-first
/// model and back.
/// </summary>
public static class StateDictFile
{
    public static void Write(BinaryWriter w, nn.Module module)
    {
        var entries = module.state_dict();
        w.Write(entries.Count);
        foreach (var (name, tensor) in entries)
        {
            using var values = tensor.detach().cpu().contiguous();
            w.Write(name);
            w.Write((int)values.dtype);
            w.Write((int)values.dim());
            foreach (var d in values.shape) w.Write(d);
            var bytes = values.bytes;
            w.Write(bytes.Length);
            w.Write(bytes);
        }
    }

    /// <summary>Reads what <see cref="Write"/> wrote into <paramref name="module"/>'s tensors; every entry must be
    /// present on both sides with the same dtype and shape (<see cref="InvalidDataException"/> otherwise), and nothing
    /// is copied before all entries have been read and checked.</summary>
    public static void Read(BinaryReader r, nn.Module module)
    {
        var targets = module.state_dict();
        var count = r.ReadInt32();
        if (count != targets.Count) throw new InvalidDataException($"it holds {count} weight tensors, the model has {targets.Count}");
        var loaded = new List<(Tensor Target, Tensor Source)>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var name = r.ReadString();
                var dtype = (ScalarType)r.ReadInt32();
                var shape = new long[r.ReadInt32()];
                for (var d = 0; d < shape.Length; d++) shape[d] = r.ReadInt64();
                var bytes = r.ReadBytes(r.ReadInt32());
                if (!targets.TryGetValue(name, out var target)) throw new InvalidDataException($"the model has no tensor {name}");
                if (target.dtype != dtype || !target.shape.SequenceEqual(shape))
                    throw new InvalidDataException($"{name} is {dtype} [{string.Join(", ", shape)}], the model's is {target.dtype} [{string.Join(", ", target.shape)}]");
                var source = empty(shape, dtype);
                source.bytes = bytes;
                loaded.Add((target, source));
            }
            using (no_grad())
                foreach (var (target, source) in loaded) target.copy_(source);
        }
        finally
        {
            foreach (var (_, source) in loaded) source.Dispose();
        }
    }
}
