namespace Hypha.Models;

/// <summary>
/// A model family's settings: each family has its own record deriving from this one, kept in config.json under
/// <c>model</c> with its family's name as <c>kind</c> beside its own fields (<see cref="Runs.ConfigJson"/> reads and
/// writes the right record for the kind).
/// </summary>
public abstract record ModelOptions
{
    /// <summary>The family's registry name (<see cref="ModelDescriptor.Name"/>).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Kind => ModelRegistry.ForOptions(GetType()).Name;

    /// <summary>The family's descriptor.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public ModelDescriptor Descriptor => ModelRegistry.ForOptions(GetType());

    /// <summary>Checks the settings alone (shape checks need the chunk size: <see cref="ModelDescriptor.ValidateShape"/>).</summary>
    public virtual void Validate() { }
}
