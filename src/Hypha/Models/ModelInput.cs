using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Models;

/// <summary>Brings a batch of chunks to the resolution a model currently works at (a progressive model trains
/// below the chunk size in its early stages), by area averaging as the thesis.</summary>
public static class ModelInput
{
    public static Tensor Fit(IGenerativeModel model, Tensor x) =>
        x.shape[^1] == model.Resolution && x.shape[^2] == model.Resolution
            ? x
            : nn.functional.interpolate(x, [model.Resolution, model.Resolution], mode: InterpolationMode.Area);
}
