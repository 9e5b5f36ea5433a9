using Hypha.Models;
using static TorchSharp.torch;

namespace Hypha.Export;

/// <summary>
/// The weights a model exchanges with other frameworks: what <see cref="IExportWeights"/> names, or the module's whole
/// state dict (parameters and buffers, e.g. batch-norm running statistics) for a model without that capability. Names
/// are the PyTorch twins' (bench/pytorch/resnet_vae.py, bench/pytorch/diffusion_ref.py).
/// </summary>
public static class ModelWeights
{
    /// <summary>What an export of <paramref name="model"/> holds, as a phrase.</summary>
    public static string Describe(IGenerativeModel model) =>
        model.As<IExportWeights>()?.ExportedWeights ?? "the model's weights (its state dict: parameters and buffers)";

    /// <summary>The tensors to export, in order: the model's own (on its device, any layout).</summary>
    public static IReadOnlyList<(string Name, Tensor Tensor)> Tensors(IGenerativeModel model) =>
        model.As<IExportWeights>()?.ExportTensors() ?? model.Module.state_dict().Select(kv => (kv.Key, kv.Value)).ToList();

    /// <summary>
    /// Copies <paramref name="tensors"/> into <paramref name="model"/>: every name of <see cref="Tensors"/> must be there
    /// with its shape, and no other; floating-point values of another precision (fp16, bf16, fp64) are converted, other
    /// dtypes must match. Everything is checked before anything is copied; the first mismatch in the model's order is
    /// an <see cref="InvalidDataException"/> that names the tensor.
    /// </summary>
    public static void Load(IGenerativeModel model, IReadOnlyDictionary<string, Tensor> tensors)
    {
        var targets = model.As<IExportWeights>()?.ImportTargets() ?? Tensors(model);
        var expected = Tensors(model).Select(p => p.Name).ToList();
        var first = targets.GroupBy(t => t.Name).ToDictionary(g => g.Key, g => g.First().Target);
        foreach (var name in expected)
        {
            if (!tensors.TryGetValue(name, out var source))
                throw new InvalidDataException($"it has no tensor {name}, which the model needs{Hint(tensors.Keys, name)}");
            var target = first[name];
            if (!source.shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"{name} is [{string.Join(", ", source.shape)}], the model's is [{string.Join(", ", target.shape)}]");
            if (source.dtype != target.dtype && !(source.is_floating_point() && target.is_floating_point()))
                throw new InvalidDataException($"{name} is {source.dtype}, the model's is {target.dtype}");
        }
        var known = expected.ToHashSet();
        if (tensors.Keys.FirstOrDefault(k => !known.Contains(k)) is { } extra)
            throw new InvalidDataException($"it holds {extra}, which the model has no place for ({tensors.Count} tensors in the file, the model has {expected.Count})");
        using var noGrad = no_grad();
        foreach (var (name, target) in targets) target.copy_(tensors[name]); // copy_ converts dtype, device and layout
    }

    /// <summary>", it holds PREFIX.NAME": when the file's names carry a prefix (a whole Hypha state dict, a wrapper module).</summary>
    static string Hint(IEnumerable<string> keys, string name)
    {
        var match = keys.FirstOrDefault(k => k.EndsWith("." + name, StringComparison.Ordinal));
        return match is null ? "" : $" (it holds {match}: strip the prefix {match[..^name.Length]})";
    }
}
