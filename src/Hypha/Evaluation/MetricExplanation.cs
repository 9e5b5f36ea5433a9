namespace Hypha.Evaluation;

/// <summary>A reader's explanation of one metric: a short title, what it measures, and which direction is better.</summary>
/// <param name="Title">Short name for tables, e.g. "PSNR (dB)".</param>
/// <param name="Measures">One sentence a biologist can read: what the number says about the model.</param>
/// <param name="Better">Which direction is better, in words (e.g. "higher", "close to the floor").</param>
public sealed record MetricExplanation(string Title, string Measures, string Better);
