namespace Hypha.Models.ResNetVae;

/// <summary>Shape of the ResNet-18 VAE.</summary>
/// <param name="Channels">Image channels in and out (1 gray, 3 rgb).</param>
/// <param name="Resolution">Chunk side; any multiple of 32.</param>
/// <param name="Width">Channels of the first stage (64 in ResNet-18 and the thesis; 64/128/256/512 per stage).</param>
/// <param name="Latent">Latent size.</param>
public sealed record ResNetVaeOptions(int Channels, int Resolution, int Width, int Latent)
{
    public void Validate()
    {
        if (Resolution < 32 || Resolution % 32 != 0)
            throw HyphaException.Config($"chunk size {Resolution} cannot be taken by the ResNet-18 VAE: it needs a multiple of 32 (e.g. 64, 128, 224)");
        if (Latent < 1) throw HyphaException.Config($"latent size must be at least 1 (got {Latent})");
        if (Width < 1) throw HyphaException.Config($"model width must be at least 1 (got {Width})");
        if (Channels is not (1 or 3)) throw HyphaException.Config($"channels must be 1 or 3 (got {Channels})");
    }
}
