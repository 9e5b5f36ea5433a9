namespace Hypha.Models;

/// <summary>
/// The model families Hypha knows, by name. The built-in ones register here; a program or test that adds its own
/// family calls <see cref="Register"/> before it builds configurations or command lines, and the family then trains,
/// samples, evaluates and reports like the built-in ones.
/// </summary>
public static class ModelRegistry
{
    static readonly object Gate = new();
    static readonly List<ModelDescriptor> Ordered = [];

    static ModelRegistry()
    {
        Register(new ResNetVae.ResNetVaeDescriptor());
        Register(new ProgressiveVae.ProgressiveVaeDescriptor());
        Register(new Diffusion.DiffusionDescriptor());
        Register(new AutoencoderKl.AutoencoderKlDescriptor());
    }

    /// <summary>Every registered family, in registration order.</summary>
    public static IReadOnlyList<ModelDescriptor> All
    {
        get { lock (Gate) return Ordered.ToList(); }
    }

    /// <summary>Registers a family (or replaces one of the same name and options type).</summary>
    public static void Register(ModelDescriptor descriptor)
    {
        lock (Gate)
        {
            var i = Ordered.FindIndex(d => d.Name == descriptor.Name);
            if (i >= 0)
            {
                if (Ordered[i].OptionsType != descriptor.OptionsType)
                    throw new InvalidOperationException($"a model family named {descriptor.Name} is already registered with other options");
                Ordered[i] = descriptor;
            }
            else Ordered.Add(descriptor);
        }
    }

    /// <summary>The family named <paramref name="name"/> (case and '-' versus '_' ignored); a configuration error
    /// listing the known names otherwise.</summary>
    public static ModelDescriptor Get(string name) => Find(name)
        ?? throw HyphaException.Config($"unknown model '{name}': choose one of {string.Join(", ", All.Select(d => d.Name))}");

    /// <summary>The family named <paramref name="name"/>, or null.</summary>
    public static ModelDescriptor? Find(string name)
    {
        var key = name.Trim().Replace('-', '_');
        lock (Gate) return Ordered.FirstOrDefault(d => string.Equals(d.Name, key, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The family whose options record type is <paramref name="optionsType"/>.</summary>
    public static ModelDescriptor ForOptions(Type optionsType)
    {
        lock (Gate)
            return Ordered.FirstOrDefault(d => d.OptionsType == optionsType)
                   ?? throw new InvalidOperationException($"no model family is registered for {optionsType.Name}");
    }
}
