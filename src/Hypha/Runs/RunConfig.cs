using Hypha.Data;
using Hypha.Models;
using Hypha.Training;

namespace Hypha.Runs;

/// <summary>Everything that defines a run. Saved as config.json in the run folder, so the folder alone tells
/// sample, reconstruct, evaluate and report how the model was made.</summary>
public sealed record RunConfig
{
    /// <summary>Version of this file's layout; a newer one than <see cref="CurrentFormat"/> is refused.</summary>
    public int Format { get; init; } = CurrentFormat;
    /// <summary>3: <c>data.plane_stacks</c> (read as false from older files, whose runs were split without it); 2: model
    /// settings (beta, KL warm-up included) under <c>model</c>, by family; 1: the VAE's beta and KL warm-up under
    /// <c>train</c> (read and converted).</summary>
    public const int CurrentFormat = 3;

    /// <summary>The preset the run started from (see <see cref="Presets"/>).</summary>
    public string Preset { get; init; } = "thesis";
    public DataOptions Data { get; init; } = new();
    /// <summary>The model family's settings; default the thesis's ResNet-18 VAE.</summary>
    public ModelOptions Model { get; init; } = new VaeOptions();
    public TrainOptions Train { get; init; } = new();

    /// <summary>Checks every setting that can be checked without reading images or loading libtorch.</summary>
    public RunConfig Validated()
    {
        Data.Validate();
        Model.Validate();
        Train.Validate();
        Model.Descriptor.ValidateShape(Model, Imaging.ChannelModeExtensions.Count(Data.Channels), Data.Chunk);
        return this;
    }
}
