namespace Hypha.Export;

/// <summary>File formats <see cref="ModelExport.Export"/> writes.</summary>
public enum WeightsFormat
{
    /// <summary>safetensors (Hugging Face's format: a JSON header and raw tensors, no code to unpickle), read by
    /// <c>safetensors.torch.load_file</c> and by bench/pytorch/hypha_weights.py.</summary>
    Safetensors,
}
