using System.CommandLine;
using Hypha.Models;

namespace Hypha.Cli;

/// <summary>The sampling options of families that have them (<see cref="SamplerSettings"/>): --sampler, --steps, --eta.
/// Left out, the run's own defaults apply; a family that does not take one refuses it by name.</summary>
public sealed class SamplerOptions
{
    public Option<string> Sampler { get; } = new("--sampler")
    {
        Description = "Sampler of the model's family: diffusion: ddim (default) or ddpm (ancestral); VAEs: where the latents come from: " +
                      "prior (N(0, I), default), gmm or latent-diffusion (fitted to the training chunks' latents by hypha fit-prior). Default: the run's.",
        HelpName = "ddim|ddpm|prior|gmm|latent-diffusion",
    };
    public Option<int?> Steps { get; } = new("--steps") { Description = "Denoising steps (diffusion; a VAE's --sampler latent-diffusion). Default: the run's sample_steps, or the prior's (50 unless fitted with another)." };
    public Option<double?> Eta { get; } = new("--eta") { Description = "DDIM eta: 0 deterministic, 1 as noisy as ancestral sampling (diffusion; a VAE's --sampler latent-diffusion). Default: the run's, or the prior's (0)." };

    public void AddTo(Command command)
    {
        command.Options.Add(Sampler);
        command.Options.Add(Steps);
        command.Options.Add(Eta);
    }

    public SamplerSettings Resolve(ParseResult p)
    {
        var steps = p.GetValue(Steps);
        if (steps is < 1) throw HyphaException.Config($"--steps must be at least 1 (got {steps})");
        var eta = p.GetValue(Eta);
        if (eta is { } e && !(e >= 0 && e <= 1)) throw HyphaException.Config($"--eta must be in [0, 1] (got {e})");
        return new SamplerSettings { Sampler = p.GetValue(Sampler), Steps = steps, Eta = eta };
    }
}
