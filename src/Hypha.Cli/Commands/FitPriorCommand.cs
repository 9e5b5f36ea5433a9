using System.CommandLine;
using System.Globalization;
using Hypha.Models;
using Hypha.Runs;
using Hypha.Sampling.Priors;
using Hypha.Training;
using Spectre.Console;

namespace Hypha.Cli.Commands;

/// <summary><c>hypha fit-prior</c>: fits a prior to a trained VAE's latents and stores it in the run folder.</summary>
public static class FitPriorCommand
{
    static readonly GmmOptions G = new();
    static readonly LatentDiffusionOptions D = new();

    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "A trained VAE run folder (with checkpoints/last.ckpt).", Required = true };
        var sampler = new Option<string>("--sampler")
        {
            Description = "The prior to fit: gmm (a Gaussian mixture, EM) or latent-diffusion (a small diffusion model on the latents).",
            Required = true, HelpName = "gmm|latent-diffusion",
        };
        var seed = new Option<int>("--seed") { Description = "Seed of the training-chunk subset, the k-means++ seeding (gmm) and the initialization and draws (latent-diffusion). Default: 0.", DefaultValueFactory = _ => 0 };
        var trainLimit = new Option<int>("--train-limit") { Description = "Training chunks encoded, a seeded random subset (0: all). Default: 0.", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N. Default: the run's." };
        var threads = new Option<int?>("--threads") { Description = "CPU threads for libtorch (0: all cores). Default: the run's." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace a prior of the same name fitted before." };
        var augment = EnumOption.Create<Hypha.Data.Augment>("--augment",
            "Symmetries of each training chunk encoded: none, flips (4 latents a chunk) or dihedral (8: every flip and 90-degree rotation). Default: none.");

        var components = new Option<int?>("--components") { Description = $"gmm: mixture components. Default: {G.Components}." };
        var covariance = EnumOption.Create<CovarianceKind>("--covariance", $"gmm: full or diag covariance per component. Default: {EnumOption.Spell(G.Covariance)}.");
        var regCovar = new Option<double?>("--reg-covar") { Description = $"gmm: added to each covariance's diagonal. Default: {F(G.RegCovar)}." };
        var maxIter = new Option<int?>("--max-iter") { Description = $"gmm: EM iterations at most. Default: {G.MaxIterations}." };
        var tol = new Option<double?>("--tol") { Description = $"gmm: stop when the mean log-likelihood rises by less than this (nats). Default: {F(G.Tolerance)}." };
        var kmeansIter = new Option<int?>("--kmeans-iter") { Description = $"gmm: k-means iterations after the k-means++ seeding. Default: {G.KMeansIterations}." };

        var steps = new Option<int?>("--steps") { Description = $"latent-diffusion: training steps. Default: {ByDenoiser(d => d.Steps)}." };
        var denoiser = EnumOption.Create<LatentDenoiserKind>("--denoiser",
            "latent-diffusion: the denoising network, mlp (over the latent vector) or unet (over a latent image, the autoencoder_kl's). Default: auto, unet for a latent image, mlp otherwise.");
        var width = new Option<int?>("--width") { Description = $"latent-diffusion: width of the MLP's hidden layers, or the U-Net's base channels. Default: {ByDenoiser(d => d.Width)}." };
        var blocks = new Option<int?>("--blocks") { Description = $"latent-diffusion: residual blocks of the MLP, or of the U-Net per level. Default: {ByDenoiser(d => d.Blocks)}." };
        var batch = new Option<int?>("--batch") { Description = $"latent-diffusion: latent vectors per step. Default: {ByDenoiser(d => d.Batch)}." };
        var lr = new Option<double?>("--lr") { Description = $"latent-diffusion: Adam learning rate, cosine decay to 0. Default: {F(D.Lr)}." };
        var ema = new Option<double?>("--ema") { Description = $"latent-diffusion: EMA decay of the sampling weights. Default: {F(D.EmaDecay)}." };
        var sampleSteps = new Option<int?>("--sample-steps") { Description = $"latent-diffusion: DDIM steps when sampling (sample --steps overrides). Default: {D.SampleSteps}." };
        var eta = new Option<double?>("--eta") { Description = $"latent-diffusion: DDIM eta when sampling (sample --eta overrides). Default: {F(D.Eta)}." };

        Option[] gmmOnly = [components, covariance, regCovar, maxIter, tol, kmeansIter];
        Option[] diffusionOnly = [denoiser, steps, width, blocks, batch, lr, ema, sampleSteps, eta];
        var cmd = new Command("fit-prior",
            "Fit a prior to the posterior means of a trained VAE's training chunks and store it in RUN/priors/ " +
            "(sample, evaluate and report then take --sampler gmm or --sampler latent-diffusion). " +
            "N(0, I) leaves regions the encoder never uses; a fitted prior draws latents where the training chunks are.")
            { run, sampler, seed, trainLimit, augment, device, threads, overwrite };
        foreach (var o in gmmOnly.Concat(diffusionOnly)) cmd.Options.Add(o);
        cmd.SetAction(p => CliApp.Guard(cancel =>
        {
            var name = p.GetValue(sampler)!;
            var wrong = name == LatentSamplers.Gmm ? diffusionOnly : name == LatentSamplers.LatentDiffusion ? gmmOnly : [];
            var given = wrong.Where(o => p.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
            if (given.Count > 0)
                throw HyphaException.Config($"{string.Join(", ", given)} do{(given.Count == 1 ? "es" : "")} not apply to --sampler {name}");
            var s = p.GetValue(seed);
            var request = new PriorFitRequest
            {
                Sampler = name, Seed = s, TrainLimit = p.GetValue(trainLimit), Overwrite = p.GetValue(overwrite),
                Augment = p.GetValue(augment) ?? Hypha.Data.Augment.None,
                Gmm = G with
                {
                    Components = p.GetValue(components) ?? G.Components, Covariance = p.GetValue(covariance) ?? G.Covariance,
                    RegCovar = p.GetValue(regCovar) ?? G.RegCovar, MaxIterations = p.GetValue(maxIter) ?? G.MaxIterations,
                    Tolerance = p.GetValue(tol) ?? G.Tolerance, KMeansIterations = p.GetValue(kmeansIter) ?? G.KMeansIterations, Seed = s,
                },
                LatentDiffusion = D with
                {
                    Denoiser = p.GetValue(denoiser) ?? D.Denoiser, Steps = p.GetValue(steps) ?? D.Steps, Width = p.GetValue(width) ?? D.Width, Blocks = p.GetValue(blocks) ?? D.Blocks,
                    Batch = p.GetValue(batch) ?? D.Batch, Lr = p.GetValue(lr) ?? D.Lr, EmaDecay = p.GetValue(ema) ?? D.EmaDecay,
                    SampleSteps = p.GetValue(sampleSteps) ?? D.SampleSteps, Eta = p.GetValue(eta) ?? D.Eta, Seed = s,
                },
            }.Validated();
            var folder = RunFolder.Open(p.GetValue(run)!);
            Evaluation.RunEvaluation.RequireCheckpoint(folder);
            FittedPriors.RefuseExisting(folder, name, request.Overwrite);
            using var hold = RunLock.Acquire(folder.Root, "run folder"); // not while it trains, not twice at once
            using var session = TrainingSession.OpenTrained(folder, p.GetValue(device), m => AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(m)}[/]"));
            if (p.GetValue(threads) is { } t && t > 0) TorchSharp.torch.set_num_threads(t);
            Fit(session, request, cancel);
            return 0;
        }));
        return cmd;
    }

    /// <summary>Fits with progress on the console and prints what was written; shared with <c>train --fit-prior</c>.</summary>
    public static PriorFitResult Fit(TrainingSession session, PriorFitRequest request, CancellationToken cancel)
    {
        Console.WriteLine($"fitting the {request.Sampler} prior to the posterior means of {(request.TrainLimit > 0 ? $"at most {request.TrainLimit:N0} of " : "")}" +
                          $"{session.Data.Index.Train.Count:N0} training chunks" +
                          (request.Augment == Hypha.Data.Augment.None ? "" : $", each under {FittedPriors.Symmetries(request.Augment).Length} symmetries ({request.Augment.ToString().ToLowerInvariant()})") +
                          $" on {session.Device}");
        string? phase = null;
        var result = FittedPriors.Fit(session, request, p =>
        {
            if (phase is not null && phase != p.Phase) Console.WriteLine();
            phase = p.Phase;
            var eta = p.Eta is { } e ? $" ETA {e:hh\\:mm\\:ss}" : "";
            Console.Write(p.Phase switch
            {
                "encode" => $"\rencoded {p.Done:N0}/{p.Total:N0} chunks, {p.PerSecond:F0} chunks/s{eta}",
                "em" => $"\rEM iteration {p.Done}: mean log-likelihood {p.Value:F3} nats per latent vector",
                _ => $"\rstep {p.Done:N0}/{p.Total:N0} loss {p.Value:G4} {p.PerSecond:F1} steps/s{eta}",
            });
        }, cancel);
        Console.WriteLine();
        Console.WriteLine($"{result.Description}");
        Console.WriteLine($"{result.Summary}");
        Console.WriteLine($"encoded in {result.Fit.EncodeSeconds:F1} s, fitted in {result.Fit.FitSeconds:F1} s; wrote {result.Path}");
        Console.WriteLine($"sample with it: hypha sample --run {session.Run.Root} --sampler {request.Sampler} --count 64 --out OUT");
        return result;
    }

    static string F(double v) => v.ToString("G", CultureInfo.InvariantCulture);

    /// <summary>"4,000 (mlp), 4,000 (unet)": one of <see cref="LatentDiffusionOptions.DefaultsOf"/>'s numbers for each denoiser.</summary>
    static string ByDenoiser(Func<(int Width, int Blocks, int Steps, int Batch), int> pick) =>
        string.Join(", ", new[] { LatentDenoiserKind.Mlp, LatentDenoiserKind.Unet }.Select(k =>
            $"{pick(LatentDiffusionOptions.DefaultsOf(k)).ToString("N0", CultureInfo.InvariantCulture)} ({EnumOption.Spell(k)})"));
}
