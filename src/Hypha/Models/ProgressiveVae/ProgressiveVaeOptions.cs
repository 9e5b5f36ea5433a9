namespace Hypha.Models.ProgressiveVae;

/// <summary>Shape of the progressive VAE.</summary>
/// <param name="Channels">Image channels in and out (1 gray, 3 rgb).</param>
/// <param name="Resolution">Chunk side, the last stage's resolution: <c>StartResolution x 2^k</c>, k >= 1.</param>
/// <param name="Width">Base width w: the stage at 7 x 2^s has <c>w x 2^max(0, 3 - s)</c> channels (8w at 7, 4w at 14,
/// 2w at 28, w from 56 on), as the ResNet-18 encoder's feature maps at 224.</param>
/// <param name="Latent">Latent size.</param>
/// <param name="Progressive">Schedule and layer switches (equalized learning rate, pixel norm, minibatch std).</param>
public sealed record ProgressiveVaeOptions(int Channels, int Resolution, int Width, int Latent, ProgressiveOptions Progressive)
{
    /// <summary>Number of stages, log2(Resolution / start) + 1.</summary>
    public int Stages => Progressive.Stages(Resolution);

    /// <summary>Feature channels at a stage: <c>Width x 2^max(0, 3 - stage)</c>.</summary>
    public int ChannelsAt(int stage) => Width << Math.Max(0, 3 - stage);

    /// <summary>Side of a stage: start x 2^stage.</summary>
    public int ResolutionAt(int stage) => Progressive.StartResolution << stage;

    public void Validate()
    {
        Progressive.Validate(Resolution);
        if (Latent < 1) throw HyphaException.Config($"latent size must be at least 1 (got {Latent})");
        if (Width < 1) throw HyphaException.Config($"model width must be at least 1 (got {Width})");
        if (Channels is not (1 or 3)) throw HyphaException.Config($"channels must be 1 or 3 (got {Channels})");
    }
}
