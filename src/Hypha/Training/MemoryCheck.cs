using Hypha.Models;
using Hypha.Runs;
using Hypha.Torch;
using static TorchSharp.torch;

namespace Hypha.Training;

/// <summary>
/// Refuses, before libtorch allocates anything, a model that cannot fit on its device: the descriptor's
/// <see cref="ModelDescriptor.EstimateMemory"/> against what the device has (<see cref="DeviceMemory"/>), with exit 8
/// and both figures, instead of an "unexpected error" and a libtorch trace from a failed allocation.
/// </summary>
public static class MemoryCheck
{
    /// <summary>The estimate for training <paramref name="config"/>; throws when it exceeds <paramref name="device"/>'s memory
    /// (and, on a GPU, when the weights alone exceed the host's, where they are made first).</summary>
    public static ModelMemory EnsureTrainingFits(RunConfig config, Device device)
    {
        var memory = Estimate(config);
        var need = memory.TrainingBytes(config.Train.Batch);
        Refuse(config, device, need, memory, $"to train at batch {config.Train.Batch}", training: true);
        if (device.type != TorchSharp.DeviceType.CPU) Refuse(config, CPU, memory.StateBytes, memory, "to build", training: false);
        return memory;
    }

    /// <summary>Throws when the weights of <paramref name="config"/>'s model alone exceed <paramref name="device"/>'s memory
    /// (for loading a trained model: a hand-edited config.json, or a run from a larger machine).</summary>
    public static void EnsureModelFits(RunConfig config, Device device)
    {
        var memory = Estimate(config);
        Refuse(config, device, memory.StateBytes, memory, "to load", training: false);
        if (device.type != TorchSharp.DeviceType.CPU) Refuse(config, CPU, memory.StateBytes, memory, "to build", training: false);
    }

    /// <summary>The model's estimate for the run's channels and chunk size.</summary>
    public static ModelMemory Estimate(RunConfig config) =>
        config.Model.Descriptor.EstimateMemory(config.Model, Imaging.ChannelModeExtensions.Count(config.Data.Channels), config.Data.Chunk);

    static void Refuse(RunConfig config, Device device, long need, ModelMemory memory, string what, bool training)
    {
        var (has, bytes) = DeviceMemory.Of(device);
        if (bytes is not { } limit || need <= limit) return;
        var d = config.Model.Descriptor;
        var parts = training
            ? $"{DeviceMemory.Format(memory.StateBytes)} of weights, {DeviceMemory.Format(memory.OptimizerBytes)} of gradients and Adam state, " +
              $"{DeviceMemory.Format(ModelMemory.Saturate((double)memory.ActivationBytesPerImage * config.Train.Batch))} of activations"
            : $"{DeviceMemory.Format(memory.StateBytes)} of weights";
        var settings = string.Join(", ", d.Settings.Where(s => s.ValueType == typeof(int) || s.ValueType == typeof(int[])).Take(2).Select(s => "--" + s.Name));
        throw new HyphaException(ExitCode.OutOfMemory,
            $"the {d.Name} model ({d.Architecture(config.Model)}) would need about {DeviceMemory.Format(need)} {what} " +
            $"({memory.Parameters:N0} parameters: {parts}), more than the {has}; refused before allocating: " +
            $"choose smaller model settings ({settings}){(training ? " or a smaller --batch" : "")}");
    }
}
