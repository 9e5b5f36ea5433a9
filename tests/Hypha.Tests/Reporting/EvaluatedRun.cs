using Hypha.Evaluation;
using Hypha.Reporting;
using Hypha.Runs;
using Hypha.Tests.Training;
using Hypha.Training;

namespace Hypha.Tests.Reporting;

/// <summary>
/// One tiny run (SmallRuns.Tiny, 2 short epochs on the AMF images), evaluated once with small settings and
/// reported once, shared by the evaluate and report tests (training and the ResNet-18 features dominate their time).
/// </summary>
public sealed class EvaluatedRun : IDisposable
{
    /// <summary>Settings small enough for seconds: 48 test chunks (24 per half, 24 samples), 300 training chunks, K = 8.</summary>
    public static RunEvaluationOptions Options { get; } = new() { IwaeK = 8, TrainLimit = 300, TestLimit = 48 };

    readonly TempDir dir = new();
    public RunFolder Run { get; }
    public RunEvaluationResult Evaluation { get; }
    public string ReportPath { get; }

    public EvaluatedRun()
    {
        Run = RunFolder.At(dir["run"]);
        SmallRuns.Train(Run, SmallRuns.Tiny(epochs: 2));
        using (var session = TrainingSession.OpenTrained(Run))
        using (var registry = MetricRegistry.CreateDefault())
            Evaluation = RunEvaluation.Run(session, Options, registry);
        ReportPath = RunReport.Write(Run);
    }

    /// <summary>A copy of the run folder's files under a new temp folder (for tests that append to metrics.jsonl).</summary>
    public RunFolder CopyRun(TempDir into)
    {
        foreach (var file in Directory.EnumerateFiles(Run.Root, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(into.Path, "run", Path.GetRelativePath(Run.Root, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return RunFolder.Open(Path.Combine(into.Path, "run"));
    }

    public void Dispose() => dir.Dispose();
}

[CollectionDefinition(Name)]
public sealed class EvaluatedRunCollection : ICollectionFixture<EvaluatedRun>
{
    public const string Name = "evaluated tiny run";
}
