using System.Globalization;
using Hypha.Data;
using Hypha.Models;
using Hypha.Models.ProgressiveVae;
using Hypha.Runs;
using Hypha.Sampling;
using Hypha.Training;
using Hypha.Training.Observers;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Tests.Progressive;

/// <summary>The progressive VAE trained by the real trainer on real microscopy chunks (amf_ink_roots).</summary>
public sealed class ProgressiveTrainingTests
{
    static RunConfig Config(int chunk, int stride, int width, int latent, int epochsPerStage, long fadeImages, int epochSize, int batch) => new()
    {
        Preset = "provae-cpu",
        Data = new DataOptions { Images = [SharedData.Path("amf_ink_roots")], Chunk = chunk, Stride = stride },
        Model = new ProVaeOptions
        {
            Width = width, Latent = latent,
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
        public void Record(IGenerativeModel model, StepProgress p)
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
            // 28x28 chunks: stages 7, 14, 28; 64 images (8 steps) an epoch, 1 epoch a stage, fades of 48 images.
            var config = Config(chunk: 28, stride: 28, width: 2, latent: 4, epochsPerStage: 1, fadeImages: 48, epochSize: 64, batch: 8);

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

    /// <summary>
    /// The reconstruction error per pixel (posterior mean, eval mode, no RNG use) of 64 fixed training chunks spread over
    /// the training part, at each logged training step: the same images every time, so the curve shows what the model
    /// learned, not which chunks the batch held.
    /// </summary>
    sealed class ProbeObserver : ITrainingObserver
    {
        TrainingContext? _context;
        Tensor? _x;
        public readonly List<(int Stage, double Alpha, double Mse)> Rows = [];

        public void OnStart(TrainingContext context, CheckpointHeader? resumedFrom)
        {
            _context = context;
            var train = context.Index.Train;
            _x = context.Bank.Cut(Enumerable.Range(0, 64).Select(i => train[i * train.Count / 64]).ToList());
        }

        public void OnMetrics(MetricsRow row)
        {
            if (row.Phase != "train") return;
            using var scope = NewDisposeScope();
            var model = (IProgressiveModel)_context!.Model;
            var x = ModelInput.Fit(model, _x!);
            var mse = (x - VaeMath.Reconstruct((IEncoderModel)model, x)).square().mean().item<float>();
            Rows.Add((model.Stage, model.Alpha, mse));
        }

        public void OnEpochEnd(int epoch, TrainingContext context) { }
        public void Dispose() => _x?.Dispose();
    }

    [Fact]
    public void AShortProgressiveRunReachesTheLastStageAndItsErrorFallsWithinEachStage()
    {
        var root = Directory.CreateTempSubdirectory("hypha-provae-run").FullName;
        try
        {
            // 56x56 chunks: stages 7, 14, 28, 56; 128 images (16 steps) a stage, the new block faded in over the first 32.
            var config = Config(chunk: 56, stride: 32, width: 8, latent: 32, epochsPerStage: 1, fadeImages: 32, epochSize: 128, batch: 8);
            config = config with { Train = config.Train with { LogEvery = 2 } };
            var run = RunFolder.At(Path.Combine(root, "run"));
            var probe = new ProbeObserver();
            TrainResult result;
            using (var session = TrainingSession.Create(run, config))
            {
                result = session.Train(resume: false, extraObservers: [probe]);
                var model = (IProgressiveModel)session.Model;
                Assert.Equal(3, model.Stage);
                Assert.Equal(1.0, model.Alpha);
                Assert.Equal(56, model.Resolution);
            }
            Assert.True(result.Complete);
            Assert.Equal(4, result.EpochsDone);

            // metrics.csv carries stage, alpha and resolution, and every stage was trained at its resolution
            var rows = MetricsCsvObserver.Read(run.MetricsCsv);
            double Num(Dictionary<string, string> r, string k) => double.Parse(r[k], CultureInfo.InvariantCulture);
            var train = rows.Where(r => r["phase"] == "train").ToList();
            for (var stage = 0; stage < 4; stage++)
            {
                var inStage = train.Where(r => Num(r, "stage") == stage).ToList();
                Assert.Equal(8, inStage.Count);
                Assert.All(inStage, r => Assert.Equal(7 << stage, Num(r, "resolution")));
            }
            Assert.Contains(train, r => Num(r, "alpha") is > 0 and < 1);

            // Within each stage the error falls: from the first step in stage 0, and in later stages from the end of the
            // fade (while alpha rises, the new, untrained block is mixed in and the error first goes up, as in ProGAN)
            // to the stage's last step.
            var report = string.Join("; ", probe.Rows.Select(r => $"s{r.Stage} a{r.Alpha:F2} {r.Mse:F4}"));
            for (var stage = 0; stage < 4; stage++)
            {
                var complete = probe.Rows.Where(r => r.Stage == stage && r.Alpha == 1).ToList();
                Assert.True(complete.Count >= 5, $"stage {stage}: only {complete.Count} steps after the fade: {report}");
                Assert.True(complete[^1].Mse < 0.95 * complete[0].Mse, $"stage {stage}: the error per pixel did not fall: {report}");
            }

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
