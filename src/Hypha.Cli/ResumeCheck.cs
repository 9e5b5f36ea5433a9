using System.CommandLine;

namespace Hypha.Cli;

/// <summary><c>train --resume</c> keeps the run's stored configuration: options it cannot apply are refused by name, not ignored.</summary>
static class ResumeCheck
{
    /// <summary>Throws exit 2 naming every option in <paramref name="options"/> that was given on the command line but is not in <paramref name="allowed"/>.</summary>
    public static void RefuseOthers(ParseResult p, IEnumerable<Option> options, params Option[] allowed)
    {
        var given = options.Where(o => !allowed.Contains(o) && p.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
        if (given.Count > 0)
            throw HyphaException.Config($"--resume cannot apply {string.Join(", ", given)}: a resumed run keeps its stored configuration " +
                $"(only {string.Join(", ", allowed.Select(o => o.Name))} may change); start a new run to change {(given.Count == 1 ? "it" : "them")}");
    }
}
