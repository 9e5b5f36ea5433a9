namespace Hypha.Models.ProgressiveVae;

/// <summary>Where a progressive run stands: the stage (0 = the start resolution), the fade-in weight of the
/// newest block and the resolution trained at.</summary>
public readonly record struct ProgressivePosition(int Stage, double Alpha, int Resolution);

/// <summary>
/// Maps the number of training images shown to a <see cref="ProgressivePosition"/>, so a resumed run continues in
/// the same stage with the same alpha. Stage s covers images [s, s + 1) x <c>epochsPerStage x imagesPerEpoch</c>
/// (the last stage goes on for ever); within a stage s >= 1, alpha rises linearly from 0 to 1 over
/// <see cref="FadeImages"/> images and stays at 1; stage 0 has no fade (alpha 1).
/// </summary>
/// <param name="Stages">Number of stages (log2(chunk / start) + 1).</param>
/// <param name="StartResolution">Side of stage 0 (7 by default).</param>
/// <param name="EpochsPerStage">Epochs at each resolution.</param>
/// <param name="FadeImagesSetting">Images of the fade; 0 for half a stage.</param>
public sealed record ProgressiveSchedule(int Stages, int StartResolution, int EpochsPerStage, long FadeImagesSetting)
{
    /// <summary>The resolution of a stage: start x 2^stage.</summary>
    public int ResolutionOf(int stage) => StartResolution << stage;

    /// <summary>Images shown per stage.</summary>
    public long ImagesPerStage(long imagesPerEpoch) => Math.Max(1, (long)EpochsPerStage * imagesPerEpoch);

    /// <summary>Images over which alpha rises: the setting, or half a stage when it is 0.</summary>
    public long FadeImages(long imagesPerEpoch) =>
        FadeImagesSetting > 0 ? FadeImagesSetting : Math.Max(1, ImagesPerStage(imagesPerEpoch) / 2);

    /// <summary>The position after <paramref name="imagesSeen"/> training images, epochs being <paramref name="imagesPerEpoch"/> images long.</summary>
    public ProgressivePosition At(long imagesSeen, long imagesPerEpoch)
    {
        if (imagesPerEpoch < 1) throw new ArgumentOutOfRangeException(nameof(imagesPerEpoch), "an epoch must hold at least one image");
        var perStage = ImagesPerStage(imagesPerEpoch);
        var stage = (int)Math.Min(Stages - 1, Math.Max(0, imagesSeen) / perStage);
        var into = Math.Max(0, imagesSeen) - stage * perStage;
        var alpha = stage == 0 ? 1.0 : Math.Clamp((double)into / FadeImages(imagesPerEpoch), 0, 1);
        return new ProgressivePosition(stage, alpha, ResolutionOf(stage));
    }
}
