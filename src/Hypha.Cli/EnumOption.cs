using System.CommandLine;
using System.Text.Json;

namespace Hypha.Cli;

/// <summary>Options over enums spelled in snake_case on the command line (resnet_vae, tiff16), as in config.json.</summary>
public static class EnumOption
{
    public static string Spell<T>(T value) where T : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    public static string Spell(Enum value) => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    public static Option<T?> Create<T>(string name, string description) where T : struct, Enum
    {
        var names = Enum.GetValues<T>().Select(Spell).ToArray();
        var option = new Option<T?>(name)
        {
            Description = description,
            HelpName = string.Join("|", names),
            CustomParser = r =>
            {
                var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
                foreach (var v in Enum.GetValues<T>())
                    if (string.Equals(Spell(v), text.Replace('-', '_'), StringComparison.OrdinalIgnoreCase)) return v;
                r.AddError($"{name}: '{text}' is not one of {string.Join(", ", names)}");
                return null;
            },
        };
        return option;
    }
}
