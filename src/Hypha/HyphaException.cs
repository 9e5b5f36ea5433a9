namespace Hypha;

/// <summary>Exit codes that scripts can test. Every error Hypha reports maps to exactly one of them.</summary>
public enum ExitCode
{
    Success = 0,
    /// <summary>A bug or an unexpected failure: the message and stack trace are printed.</summary>
    Unexpected = 1,
    /// <summary>Invalid options or configuration (unknown preset, stride 0, crossed thresholds, ...).</summary>
    InvalidConfig = 2,
    /// <summary>An input image or folder cannot be used (corrupt, truncated, too small, no usable chunks).</summary>
    BadInput = 3,
    /// <summary>A checkpoint or run folder cannot be used (truncated, other model, newer format).</summary>
    BadCheckpoint = 4,
    /// <summary>Output cannot be written (disk full, read-only, would overwrite existing files).</summary>
    OutputError = 5,
    /// <summary>Training stopped because the loss was NaN or Inf too many steps in a row.</summary>
    Diverged = 6,
    /// <summary>The requested device is not available (e.g. <c>cuda</c> without CUDA).</summary>
    DeviceUnavailable = 7,
    /// <summary>The model or the images would not fit in memory (estimated before anything is allocated), or an
    /// allocation failed; nothing is left half-made.</summary>
    OutOfMemory = 8,
    /// <summary>Stopped by SIGHUP (the terminal or SSH session closed) after writing a checkpoint: 128 + 1, as a shell reports it.</summary>
    HungUp = 129,
    /// <summary>Stopped by Ctrl-C after writing a checkpoint.</summary>
    Interrupted = 130,
    /// <summary>Stopped by SIGTERM (docker stop, Slurm, systemd, kill) after writing a checkpoint: 128 + 15, as a shell reports it.</summary>
    Terminated = 143,
}

/// <summary>An error a user can act on: the message names the file (if any) and the problem.</summary>
public class HyphaException(ExitCode code, string message, string? path = null, Exception? inner = null)
    : Exception(path is null ? message : $"{path}: {message}", inner)
{
    public ExitCode Code { get; } = code;

    /// <summary>The file or folder the error is about, if any.</summary>
    public string? Path { get; } = path;

    public static HyphaException Config(string message) => new(ExitCode.InvalidConfig, message);

    public static HyphaException Input(string path, string message, Exception? inner = null) =>
        new(ExitCode.BadInput, message, path, inner);
}
