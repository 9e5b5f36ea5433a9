using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Hypha.Cli;

/// <summary>
/// Number options parsed by Hypha rather than System.CommandLine's defaults, so that every parse error is
/// one line naming the option and what it accepts (not "... as expected type 'System.Nullable`1[System.Double]'"), and
/// infinities and NaN are refused. Response files (<c>@file</c>) are off: a file named <c>@x.png</c> is a file.
/// </summary>
public static class OptionParsing
{
    /// <summary>Response files off: System.CommandLine would read <c>@x.png</c> as a list of arguments.</summary>
    public static ParserConfiguration Configuration { get; } = new() { ResponseFileTokenReplacer = null };

    /// <summary>Ranges narrower than the type's, by option name, checked at parse time (the configuration checks the rest).</summary>
    static readonly Dictionary<string, (long Min, long Max)> WholeRanges = new()
    {
        ["--epochs"] = (1, int.MaxValue), // 0 epochs trains nothing and reports "validation loss NaN"
    };

    /// <summary>Installs the parsers on every number option under <paramref name="root"/> that has none.</summary>
    public static void Install(Command root)
    {
        foreach (var o in root.Options) Install(o);
        foreach (var c in root.Subcommands) Install(c);
    }

    static void Install(Option o)
    {
        var (min, max) = WholeRanges.TryGetValue(o.Name, out var range) ? range : (long.MinValue, long.MaxValue);
        switch (o)
        {
            case Option<int?> { CustomParser: null } x:
                x.CustomParser = r => r.Tokens.Count == 0 ? null : (int?)Whole(r, x.Name, Math.Max(min, int.MinValue), Math.Min(max, int.MaxValue));
                break;
            case Option<int> { CustomParser: null } x:
                var intDefault = x.DefaultValueFactory;
                x.CustomParser = r => r.Tokens.Count == 0 ? intDefault?.Invoke(r) ?? 0 : (int)Whole(r, x.Name, Math.Max(min, int.MinValue), Math.Min(max, int.MaxValue));
                break;
            case Option<long?> { CustomParser: null } x:
                x.CustomParser = r => r.Tokens.Count == 0 ? null : Whole(r, x.Name, min, max);
                break;
            case Option<long> { CustomParser: null } x:
                var longDefault = x.DefaultValueFactory;
                x.CustomParser = r => r.Tokens.Count == 0 ? longDefault?.Invoke(r) ?? 0 : Whole(r, x.Name, min, max);
                break;
            case Option<double?> { CustomParser: null } x:
                x.CustomParser = r => r.Tokens.Count == 0 ? null : Real(r, x.Name);
                break;
            case Option<double> { CustomParser: null } x:
                var realDefault = x.DefaultValueFactory;
                x.CustomParser = r => r.Tokens.Count == 0 ? realDefault?.Invoke(r) ?? 0 : Real(r, x.Name);
                break;
        }
    }

    static long Whole(ArgumentResult r, string name, long min, long max)
    {
        var text = r.Tokens[0].Value;
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max) return v;
        r.AddError($"{name}: '{text}' is not a whole number from {min.ToString("N0", CultureInfo.InvariantCulture)} to {max.ToString("N0", CultureInfo.InvariantCulture)}");
        return 0;
    }

    static double Real(ArgumentResult r, string name)
    {
        var text = r.Tokens[0].Value;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)) return v;
        r.AddError($"{name}: '{text}' is not a finite number (such as 0.5, 2e-3 or 10)");
        return 0;
    }
}

/// <summary>Caps <c>--threads</c> at the cores this process may use: more threads than cores only wait on each other.</summary>
public static class ThreadCap
{
    public static Runs.RunConfig Apply(Runs.RunConfig config)
    {
        var cores = Environment.ProcessorCount;
        if (config.Train.Threads <= cores) return config;
        Console.Error.WriteLine($"warning: --threads {config.Train.Threads} is more than the {cores} core(s) this process may use; using {cores}");
        return config with { Train = config.Train with { Threads = cores } };
    }
}
