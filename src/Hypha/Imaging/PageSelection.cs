namespace Hypha.Imaging;

/// <summary>
/// Which pages (or focal planes) of multi-page files to use: <c>all</c>, or a list such as <c>0,2,5-7</c>
/// (zero-based). Single-page files always use page 0.
/// </summary>
public sealed class PageSelection
{
    readonly List<(int From, int To)>? _ranges;

    PageSelection(List<(int, int)>? ranges) => _ranges = ranges;

    public static PageSelection All { get; } = new(null);

    public bool Includes(int page) => _ranges is null || _ranges.Any(r => page >= r.From && page <= r.To);

    public static PageSelection Parse(string spec)
    {
        if (string.IsNullOrWhiteSpace(spec) || spec.Trim().Equals("all", StringComparison.OrdinalIgnoreCase)) return All;
        var ranges = new List<(int, int)>();
        foreach (var part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var dash = part.IndexOf('-');
            bool ok = dash < 0
                ? int.TryParse(part, out var a) && a >= 0 && Add(ranges, a, a)
                : int.TryParse(part[..dash], out var f) && int.TryParse(part[(dash + 1)..], out var t) && f >= 0 && t >= f && Add(ranges, f, t);
            if (!ok) throw HyphaException.Config($"invalid page selection '{spec}': use 'all' or a list such as 0,2,5-7");
        }
        return new PageSelection(ranges);
    }

    static bool Add(List<(int, int)> ranges, int from, int to)
    {
        ranges.Add((from, to));
        return true;
    }

    public override string ToString() => _ranges is null ? "all" : string.Join(",", _ranges.Select(r => r.From == r.To ? $"{r.From}" : $"{r.From}-{r.To}"));
}
