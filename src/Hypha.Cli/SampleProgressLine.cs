using System.Diagnostics;

namespace Hypha.Cli;

/// <summary>
/// One progress line for sampling: images finished of the total, the denoising step of the batch in hand (diffusion),
/// images/s and ETA. On a terminal it rewrites itself (at most 4 times a second); when output is redirected it prints a
/// plain line every 5 seconds and at each finished batch, so a CI log or a Slurm file shows that sampling is alive.
/// </summary>
public sealed class SampleProgressLine(int total, int batch, string indent = "")
{
    readonly bool _interactive = !Console.IsOutputRedirected;
    readonly Stopwatch _clock = Stopwatch.StartNew();
    TimeSpan? _last; // when the line was last shown
    int _images;
    int _step, _steps;
    bool _written;

    /// <summary>Images finished so far (a batch ended).</summary>
    public void Images(int done)
    {
        _images = done;
        _step = _steps = 0;
        Show(force: true);
    }

    /// <summary>Denoising step <paramref name="step"/> of <paramref name="steps"/> of the batch in hand is done.</summary>
    public void Step(int step, int steps)
    {
        (_step, _steps) = (step, steps);
        Show(force: false);
    }

    /// <summary>Ends the line (a newline on a terminal).</summary>
    public void Finish()
    {
        if (_written && _interactive) Console.WriteLine();
        _written = false;
    }

    void Show(bool force)
    {
        var now = _clock.Elapsed;
        var every = _interactive ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromSeconds(5);
        if (!force && _last is { } last && now - last < every) return;
        _last = now;
        var text = Describe(now);
        if (_interactive) Console.Write($"\r{text}   ");
        else Console.WriteLine(text);
        _written = true;
    }

    /// <summary>The line's text at <paramref name="elapsed"/> since sampling began.</summary>
    public string Describe(TimeSpan elapsed)
    {
        var inBatch = Math.Min(batch, total - _images);
        var done = _images + (_steps > 0 ? inBatch * (double)_step / _steps : 0);
        var step = _steps > 0 && _images < total ? $" · step {_step}/{_steps} of images {_images + 1}-{_images + inBatch}" : "";
        var rate = elapsed.TotalSeconds > 0 ? done / elapsed.TotalSeconds : 0;
        var eta = rate > 0 && done < total ? $" · ETA {Clock(TimeSpan.FromSeconds((total - done) / rate))}" : "";
        return $"{indent}sampled {_images}/{total}{step} · {rate:F1} img/s{eta}";
    }

    static string Clock(TimeSpan t) => $"{(int)t.TotalHours:D2}:{t.Minutes:D2}:{t.Seconds:D2}";
}
