using TorchSharp;

namespace Hypha.Torch;

/// <summary>Turns <c>auto|cpu|cuda[:N]</c> into a device, with a clear error when it cannot be had.</summary>
public static class DeviceSelector
{
    /// <summary>Checks the spelling without loading libtorch (for <c>--dry-run</c> and config validation).</summary>
    public static void Validate(string spec)
    {
        var s = spec.Trim().ToLowerInvariant();
        if (s is "auto" or "cpu" or "cuda") return;
        if (s.StartsWith("cuda:") && int.TryParse(s[5..], out var n) && n >= 0) return;
        throw HyphaException.Config($"unknown device '{spec}': use auto, cpu, cuda or cuda:N");
    }

    /// <summary>Resolves <paramref name="spec"/>; <c>auto</c> picks CUDA device 0 when available, else the CPU.</summary>
    public static torch.Device Resolve(string spec)
    {
        Validate(spec);
        TorchBackend.EnsureLoaded();
        var s = spec.Trim().ToLowerInvariant();
        if (s == "cpu") return torch.CPU;
        var cuda = torch.cuda.is_available();
        if (s == "auto") return cuda ? torch.CUDA : torch.CPU;
        if (!cuda)
            throw new HyphaException(ExitCode.DeviceUnavailable, $"device '{spec}' requested but CUDA is {TorchBackend.CudaStatus()}");
        var index = s == "cuda" ? 0 : int.Parse(s[5..]);
        var count = torch.cuda.device_count();
        if (index >= count)
            throw new HyphaException(ExitCode.DeviceUnavailable, $"device '{spec}' requested but only {count} CUDA device(s) exist");
        return new torch.Device(DeviceType.CUDA, index);
    }
}
