using Hypha.Training;
using Spectre.Console;

namespace Hypha.Cli;

/// <summary>
/// Shows training progress: a live bar (epoch, step, loss, KL, images/s, ETA) on a terminal, or a plain line every
/// few seconds when output is redirected to a file or CI log.
/// </summary>
public sealed class TrainingProgressView
{
    readonly bool _interactive = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
    DateTime _lastLine = DateTime.MinValue;

    public TrainResult Run(Func<Action<StepProgress>, TrainResult> train)
    {
        if (!_interactive) return train(PrintLine);
        TrainResult? result = null;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("starting", maxValue: 1);
                result = train(p =>
                {
                    task.MaxValue = (double)p.Epochs * p.StepsPerEpoch;
                    task.Value = (double)p.Epoch * p.StepsPerEpoch + p.Step;
                    task.Description = Markup.Escape(Describe(p));
                });
                task.Value = task.MaxValue;
            });
        return result!;
    }

    void PrintLine(StepProgress p)
    {
        var now = DateTime.UtcNow;
        bool epochEnd = p.Step == p.StepsPerEpoch;
        if (!epochEnd && now - _lastLine < TimeSpan.FromSeconds(5)) return;
        _lastLine = now;
        Console.WriteLine(Describe(p));
    }

    static string Describe(StepProgress p)
    {
        var eta = p.Eta is { } e ? $"ETA {(int)e.TotalHours:D2}:{e.Minutes:D2}:{e.Seconds:D2}" : "ETA --";
        var skipped = p.SkippedSteps > 0 ? $" skipped {p.SkippedSteps}" : "";
        // Shown when other processes hold cores and training gave them up (ThreadGovernor).
        var threads = p.CpuThreads < p.MaxCpuThreads ? $" (cores busy elsewhere: {p.CpuThreads}/{p.MaxCpuThreads} threads)" : "";
        var terms = string.Concat(p.Terms.Select(kv => $" {kv.Key} {kv.Value:G4}"));
        return $"epoch {p.Epoch + 1}/{p.Epochs} step {p.Step}/{p.StepsPerEpoch}{terms} {p.ImagesPerSecond:F0} img/s {eta}{skipped}{threads}";
    }
}
