using System.Globalization;
using Hypha.Data;
using Hypha.Models;
using Hypha.Models.ProgressiveVae;
using Hypha.Runs;
using Hypha.Training;
using Hypha.Training.Observers;

namespace Hypha.Tests.Progressive;

/// <summary>The progressive VAE trained by the real trainer on real microscopy chunks (amf_ink_roots).</summary>
public sealed class ProgressiveTrainingTests
{
    static RunConfig Config(int chunk, int stride, int width, int latent, int epochsPerStage, long fadeImages, int epochSize, int batch) => new()
    {
        Preset = "provae-cpu",
        Data = new DataOptions { Images = [SharedData.Path("amf_ink_roots")], Chunk = chunk, Stride = stride },
        Model = new ModelOptions
        {
            Kind = ModelKind.Provae, Width = width, Latent = latent,
            Progressive = new ProgressiveOptions { EpochsPerStage = epochsPerStage, FadeImages = fadeImages },
        },
        Train = new TrainOptions
        {
            Epochs = new ProgressiveOptions { EpochsPerStage = epochsPerStage }.TotalEpochs(chunk), Batch = batch, Lr = 1e-3,
            EpochSize = epochSize, ValLimit = 32, LogEvery = 4, Device = "cpu",
        },
    };

    /// <summary>Records the stage and alpha each optimizer step used, by images seen after the step.</summary>
    sealed class PositionLog
    {
        public readonly Dictionary<long, (int Stage, double Alpha)> Steps = [];
        public void Record(IVaeModel model, StepProgress p)
        {
            var m = (IProgressiveModel)model;
            Steps[p.ImagesSeen] = (m.Stage, m.Alpha);
        }
    }

    sealed class StartProbe : ITrainingObserver
    {
        public (int Stage, double Alpha)? AtStart;
        public void OnStart(TrainingContext context, CheckpointHeader? resumedFrom)
        {
            var m = (IProgressiveModel)context.Model;
            AtStart = (m.Stage, m.Alpha);
        }
        public void OnMetrics(MetricsRow row) { }
        public void OnEpochEnd(int epoch, TrainingContext context) { }
        public void Dispose() { }
    }

    [Fact]
    public void ARunKilledMidFadeAndResumedHasTheSameStageAndAlpha()
    {
        var root = Directory.CreateTempSubdirectory("hypha-provae-resume").FullName;
        try
        {
            // 28x28 chunks: stages 7, 14, 28; 32 images an epoch, 2 epochs (64 images) a stage, fades of 48 images.
            var config = Config(chunk: 28, stride: 28, width: 2, latent: 4, epochsPerStage: 2, fadeImages: 48, epochSize: 32, batch: 8);

            var straight = new PositionLog();
            var runA = RunFolder.At(Path.Combine(root, "straight"));
            using (var session = TrainingSession.Create(runA, config))
                session.Train(resume: false, p => straight.Record(session.Model, p));

            var resumed = new PositionLog();
            var runB = RunFolder.At(Path.Combine(root, "killed"));
            using (var cts = new CancellationTokenSource())
            using (var session = TrainingSession.Create(runB, config))
                Assert.ThrowsAny<OperationCanceledException>(() => session.Train(resume: false, p =>
                {
                    resumed.Record(session.Model, p);
                    if (p.ImagesSeen >= 88) cts.Cancel(); // stage 1 (images 64..127), 24 of 48 fade images in
                }, cts.Token));
            var header = Checkpoint.ReadHeader(runB.LastCheckpoint);
            Assert.Equal(88, header.ImagesSeen);

            var probe = new StartProbe();
            using (var session = TrainingSession.Create(runB, runB.ReadConfig()))
                session.Train(resume: true, p => resumed.Record(session.Model, p), extraObservers: [probe]);

            Assert.Equal((1, 0.5), probe.AtStart); // continues mid-fade, not from the start of the stage
            Assert.Equal(straight.Steps, resumed.Steps); // every step, before and after the kill, at the same stage and alpha
            Assert.Contains(resumed.Steps.Values, v => v.Stage == 1 && v.Alpha is > 0 and < 1);
            Assert.Equal(2, resumed.Steps.Values.Max(v => v.Stage));

            // metrics.csv: one row per logged step, with the stage and alpha columns, no duplicates after the resume
            var rows = MetricsCsvObserver.Read(runB.MetricsCsv);
            Assert.All(rows, r => Assert.True(r.ContainsKey("stage") && r.ContainsKey("alpha")));
            var train = rows.Where(r => r["phase"] == "train").Select(r => r["images_seen"]).ToList();
            Assert.Equal(train.Count, train.Distinct().Count());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void AShortProgressiveRunReachesTheLastStageAndItsErrorFallsWithinEachStage()
    {
        var root = Directory.CreateTempSubdirectory("hypha-provae-run").FullName;
        try
        {
            // 56x56 chunks: stages 7, 14, 28, 56. Epochs of the same 64 chunks (so epochs compare like with like),
            // 4 epochs per stage, the fade over the first 2.
            var config = Config(chunk: 56, stride: 32, width: 8, latent: 32, epochsPerStage: 4, fadeImages: 0, epochSize: 64, batch: 16);
            var run = RunFolder.At(Path.Combine(root, "run"));
            TrainResult result;
            using (var session = TrainingSession.Create(run, config))
            {
                result = session.Train(resume: false);
                var model = (IProgressiveModel)session.Model;
                Assert.Equal(3, model.Stage);
                Assert.Equal(1.0, model.Alpha);
                Assert.Equal(56, model.Resolution);
            }
            Assert.True(result.Complete);
            Assert.Equal(16, result.EpochsDone);

            var rows = MetricsCsvObserver.Read(run.MetricsCsv);
            double Num(Dictionary<string, string> r, string k) => double.Parse(r[k], CultureInfo.InvariantCulture);
            var train = rows.Where(r => r["phase"] == "train").ToList();
            var report = new List<string>();
            for (var stage = 0; stage < 4; stage++)
            {
                // one train row per epoch (log every 4 steps = one epoch of 64 chunks)
                var inStage = train.Where(r => Num(r, "stage") == stage).ToList();
                Assert.True(inStage.Count >= 3, $"stage {stage} has {inStage.Count} train rows");
                Assert.All(inStage, r => Assert.Equal(7 << stage, Num(r, "resolution")));
                double first = Num(inStage[0], "mse_per_pixel"), last = Num(inStage[^1], "mse_per_pixel");
                report.Add($"stage {stage}: {first:G4} -> {last:G4}");
                Assert.True(last < first, $"MSE per pixel did not fall within stage {stage}: {string.Join("; ", report)}");
            }
            Assert.Contains(train, r => Num(r, "alpha") is > 0 and < 1);

            foreach (var f in new[] { "reconstructions.png", "samples.png", "stages.png" })
                Assert.True(File.Exists(Path.Combine(run.GridsDir, f)), f);
            for (var s = 0; s < 4; s++)
                Assert.True(File.Exists(Path.Combine(run.GridsDir, "stages", $"stage{s}_reconstruction.png")));
            foreach (var f in new[] { "loss.png", "kl.png", "mse.png" }) Assert.True(File.Exists(Path.Combine(run.PlotsDir, f)));

            // hypha sample on the finished run: chunks at the last stage's resolution
            var outDir = Path.Combine(root, "samples");
            Assert.Equal(0, Hypha.Cli.CliApp.Run(["sample", "--run", run.Root, "--count", "3", "--out", outDir, "--device", "cpu"]));
            var written = Directory.GetFiles(outDir, "*.png").Where(f => !f.EndsWith("grid.png")).ToList();
            Assert.Equal(3, written.Count);
            var image = Hypha.Imaging.ImageReader.Read(written[0])[0];
            Assert.Equal((56, 56), (image.Width, image.Height));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
