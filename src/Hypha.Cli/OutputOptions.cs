using System.CommandLine;
using Hypha.Imaging;
using Hypha.Sampling;

namespace Hypha.Cli;

/// <summary>Options that the verbs writing image sets share: --format and --shard.</summary>
public static class OutputOptions
{
    /// <summary>--format over <see cref="ImageFormat"/>; <paramref name="stack"/> says what a stack format writes in this verb.</summary>
    public static Option<ImageFormat?> Format(string stack = "one multi-page TIFF") => EnumOption.Create<ImageFormat>("--format",
        $"png8: 8-bit PNG per image; tiff16: 16-bit TIFF per image; tiff_stack (or tiff-stack): {stack}, 16-bit, with ImageJ's stack description so Fiji opens it " +
        "as a stack of the right slice count; tiff_stack8: the same in 8 bits. Default: png8.");

    /// <summary>--shard K/N, parsed by <see cref="Shard.TryParse"/> (a one-line error naming the option).</summary>
    public static Option<Shard?> Shard(string what) => new("--shard")
    {
        Description = $"Write only the K-th (from 1) of N disjoint slices of {what}, for cluster array jobs: N jobs with the same options and --out together " +
                      "write exactly the files one job would. Every job needs the same --batch. Default: 1/1 (all).",
        HelpName = "K/N",
        CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (Sampling.Shard.TryParse(text, out var shard, out var problem)) return shard;
            r.AddError(problem!);
            return null;
        },
    };
}
