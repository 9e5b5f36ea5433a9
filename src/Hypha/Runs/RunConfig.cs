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
    public const int CurrentFormat = 1;

    /// <summary>The preset the run started from (see <see cref="Presets"/>).</summary>
    public string Preset { get; init; } = "thesis";
    public DataOptions Data { get; init; } = new();
    public ModelOptions Model { get; init; } = new();
    public TrainOptions Train { get; init; } = new();

    /// <summary>Checks every setting that can be checked without reading images or loading libtorch.</summary>
    public RunConfig Validated()
    {
        Data.Validate();
        Model.Validate();
        Train.Validate();
        ModelFactory.ValidateShape(Model, Data.Channels == Imaging.ChannelMode.Gray ? 1 : 3, Data.Chunk);
        return this;
    }
}
