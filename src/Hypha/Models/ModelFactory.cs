using Hypha.Models.ProgressiveVae;
using Hypha.Models.ResNetVae;

namespace Hypha.Models;

/// <summary>Builds the model a run's configuration names.</summary>
public static class ModelFactory
{
    public static IVaeModel Create(ModelOptions options, int channels, int resolution)
    {
        options.Validate();
        return options.Kind switch
        {
            ModelKind.ResnetVae => new ResNetVae.ResNetVae(new ResNetVaeOptions(channels, resolution, options.Width, options.Latent)),
            ModelKind.Provae => new ProgressiveVae.ProgressiveVae(
                new ProgressiveVaeOptions(channels, resolution, options.Width, options.Latent, options.ProgressiveOrDefault())),
            _ => throw HyphaException.Config($"unknown model kind {options.Kind}"),
        };
    }

    /// <summary>Checks that the model can take this chunk size, without building it.</summary>
    public static void ValidateShape(ModelOptions options, int channels, int resolution)
    {
        options.Validate();
        if (options.Kind == ModelKind.ResnetVae) new ResNetVaeOptions(channels, resolution, options.Width, options.Latent).Validate();
        if (options.Kind == ModelKind.Provae)
            new ProgressiveVaeOptions(channels, resolution, options.Width, options.Latent, options.ProgressiveOrDefault()).Validate();
    }
}
