using System.Diagnostics;
using System.Text;

namespace Hypha.Tests.Faults;

/// <summary>Tests that swap Console.Out/Error or set process-wide torch state run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "Faults.Console";
}

/// <summary>A scratch folder under the system temp folder, deleted on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public string Root { get; } = Directory.CreateDirectory(
        System.IO.Path.Combine(System.IO.Path.GetTempPath(), "hypha-faults-" + Guid.NewGuid().ToString("N")[..12])).FullName;

    public string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    /// <summary>Every file under <paramref name="dir"/> (recursively), relative, sorted.</summary>
    public static string[] FilesUnder(string dir) => !Directory.Exists(dir) ? [] :
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Select(f => System.IO.Path.GetRelativePath(dir, f)).Order().ToArray();

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>What a CLI call returned and printed.</summary>
public sealed record CliResult(int Code, string Out, string Err)
{
    public override string ToString() => $"exit {Code}\n--- stderr ---\n{Err}\n--- stdout ---\n{Out}";
}

/// <summary>Runs the <c>hypha</c> CLI in-process (capturing Console) or as a child process (for signals).</summary>
public static class Cli
{
    static readonly object Gate = new();

    /// <summary>In-process: <see cref="Hypha.Cli.CliApp.Run"/> with Console.Out and Console.Error captured.</summary>
    public static CliResult Run(params string[] args)
    {
        lock (Gate)
        {
            var (oldOut, oldErr, oldAnsi) = (Console.Out, Console.Error, Spectre.Console.AnsiConsole.Console);
            var (o, e) = (new StringWriter(), new StringWriter());
            Console.SetOut(o);
            Console.SetError(e);
            // Spectre's console holds the writer it was made with: point it at the capture too, plain and wide (no wrapping).
            var ansi = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
            {
                Ansi = Spectre.Console.AnsiSupport.No, ColorSystem = Spectre.Console.ColorSystemSupport.NoColors,
                Out = new Spectre.Console.AnsiConsoleOutput(o), Interactive = Spectre.Console.InteractionSupport.No,
            });
            ansi.Profile.Width = 1000;
            Spectre.Console.AnsiConsole.Console = ansi;
            try
            {
                var code = Hypha.Cli.CliApp.Run(args);
                return new CliResult(code, o.ToString(), e.ToString());
            }
            finally
            {
                Console.SetOut(oldOut);
                Console.SetError(oldErr);
                Spectre.Console.AnsiConsole.Console = oldAnsi;
            }
        }
    }

    /// <summary>hypha.dll as built beside the tests (the Cli project is referenced), else in the Cli project's output.</summary>
    public static string Dll { get; } = FindDll();

    static string FindDll()
    {
        var beside = System.IO.Path.Combine(AppContext.BaseDirectory, "hypha.dll");
        if (File.Exists(beside) && File.Exists(System.IO.Path.Combine(AppContext.BaseDirectory, "hypha.runtimeconfig.json"))) return beside;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var cli = System.IO.Path.Combine(dir.FullName, "src", "Hypha.Cli", "bin");
            if (Directory.Exists(cli))
            {
                var found = Directory.EnumerateFiles(cli, "hypha.dll", SearchOption.AllDirectories).OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault();
                if (found is not null) return found;
            }
        }
        throw new FileNotFoundException("hypha.dll not found beside the tests or under src/Hypha.Cli/bin");
    }

    /// <summary><c>dotnet hypha.dll args</c> as a child process in working directory <paramref name="cwd"/>, to its end (at most 3 minutes).</summary>
    public static CliResult RunIn(string cwd, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var err = p.StandardError.ReadToEnd();
        if (!p.WaitForExit(180_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"hypha did not exit within 3 minutes:\n{err}");
        }
        return new CliResult(p.ExitCode, output.Result, err);
    }

    /// <summary>Starts <c>dotnet hypha.dll args</c> with output captured line by line.</summary>
    public static ChildProcess Start(params string[] args) => new(args);
}

/// <summary>A running <c>hypha</c> child process.</summary>
public sealed class ChildProcess : IDisposable
{
    readonly Process _p;
    readonly StringBuilder _out = new(), _err = new();

    public ChildProcess(string[] args)
    {
        // A child inherits ignored signals (SIG_IGN) from the test host, and .NET leaves an inherited SIG_IGN alone, as it
        // should: `nohup dotnet test` ignores SIGHUP and a background job of a non-interactive shell (`dotnet test &` in
        // a CI script) ignores SIGINT, so those signal tests would see a child that rightly ignores them. GNU env resets
        // the dispositions to their defaults first, so the child sees the signals as a terminal's user would send them.
        var resetSignals = OperatingSystem.IsLinux() && File.Exists("/usr/bin/env");
        var psi = new ProcessStartInfo(resetSignals ? "/usr/bin/env" : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        if (resetSignals)
        {
            psi.ArgumentList.Add("--default-signal=INT,HUP,TERM,QUIT");
            psi.ArgumentList.Add("dotnet");
        }
        psi.ArgumentList.Add(Cli.Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        _p = Process.Start(psi)!;
        _p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_out) _out.AppendLine(e.Data); };
        _p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_err) _err.AppendLine(e.Data); };
        _p.BeginOutputReadLine();
        _p.BeginErrorReadLine();
    }

    public int Id => _p.Id;
    public bool HasExited => _p.HasExited;
    public string Out { get { lock (_out) return _out.ToString(); } }
    public string Err { get { lock (_err) return _err.ToString(); } }

    /// <summary>Sends a POSIX signal with kill(1).</summary>
    public void Signal(string name)
    {
        using var k = Process.Start(new ProcessStartInfo("kill", ["-" + name, _p.Id.ToString()]) { UseShellExecute = false })!;
        k.WaitForExit();
    }

    /// <summary>Waits up to <paramref name="timeout"/> for <paramref name="condition"/>; false if the process ended or time ran out first.</summary>
    public bool WaitFor(Func<bool> condition, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            if (condition()) return true;
            if (_p.HasExited) return condition();
            Thread.Sleep(20);
        }
        return false;
    }

    public CliResult Wait(TimeSpan timeout)
    {
        if (!_p.WaitForExit(timeout))
        {
            _p.Kill(entireProcessTree: true);
            throw new TimeoutException($"hypha did not exit within {timeout}:\n{Err}\n{Out}");
        }
        _p.WaitForExit();
        return new CliResult(_p.ExitCode, Out, Err);
    }

    public void Dispose()
    {
        if (!_p.HasExited) { try { _p.Kill(entireProcessTree: true); _p.WaitForExit(); } catch (InvalidOperationException) { } }
        _p.Dispose();
    }
}

/// <summary>A run folder's last checkpoint, as the kill-and-resume tests read it.</summary>
public static class RunCheckpoint
{
    public static string Path(string run) => System.IO.Path.Combine(run, "checkpoints", "last.ckpt");

    /// <summary>Every parameter and buffer of the checkpoint's model, by name.</summary>
    public static Dictionary<string, float[]> Weights(string run)
    {
        var config = Hypha.Runs.RunFolder.Open(run).ReadConfig();
        var channels = Hypha.Imaging.ChannelModeExtensions.Count(config.Data.Channels);
        using var model = config.Model.Descriptor.Create(config.Model, channels, config.Data.Chunk);
        Hypha.Training.Checkpoint.Load(Path(run), model, config.Model, channels, config.Data.Chunk, optimizer: null);
        return model.Module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to_type(TorchSharp.torch.ScalarType.Float32).data<float>().ToArray());
    }

    /// <summary>Every parameter and buffer of the checkpoint's second network (a VAE's discriminator), by name.</summary>
    public static Dictionary<string, float[]> AuxiliaryWeights(string run)
    {
        var config = Hypha.Runs.RunFolder.Open(run).ReadConfig();
        var channels = Hypha.Imaging.ChannelModeExtensions.Count(config.Data.Channels);
        using var model = config.Model.Descriptor.Create(config.Model, channels, config.Data.Chunk);
        using var auxiliary = Hypha.Training.AuxiliaryTraining.For(model, config.Train.Lr, TorchSharp.torch.CPU, channelsLast: false)
                              ?? throw new InvalidOperationException("the run's model has no second network");
        Hypha.Training.Checkpoint.Load(Path(run), model, config.Model, channels, config.Data.Chunk, optimizer: null, auxiliary);
        var net = Hypha.Models.ModelCapabilities.As<Hypha.Models.IAuxiliaryModel>(model)!.Auxiliary!;
        return net.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to_type(TorchSharp.torch.ScalarType.Float32).contiguous().data<float>().ToArray());
    }
}

/// <summary>SIGKILLs a training process at random moments: each attempt starts <c>hypha train</c> (with
/// <c>args</c>, or <c>--resume</c> once the run has a config), waits for a checkpoint newer than the one it started
/// from, sleeps a random 0..<c>maxDelayMs</c> ms and kills it; the timing seed is logged (HYPHA_FAULTS_SEED replays it).</summary>
public static class KillLoop
{
    /// <summary>Returns the kills that landed (at most <paramref name="maxKills"/> in <paramref name="attempts"/> starts).</summary>
    public static int Run(string run, string[] args, Xunit.Abstractions.ITestOutputHelper log, int attempts, int maxKills, int maxDelayMs, TimeSpan limit)
    {
        var seed = Environment.GetEnvironmentVariable("HYPHA_FAULTS_SEED") is { } s ? int.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : Environment.TickCount;
        log.WriteLine($"kill timing seed {seed} (set HYPHA_FAULTS_SEED to replay)");
        var random = new Random(seed);
        var ckpt = RunCheckpoint.Path(run);
        var kills = 0;
        for (var attempt = 0; attempt < attempts && kills < maxKills; attempt++)
        {
            var resume = File.Exists(System.IO.Path.Combine(run, "config.json"));
            using var child = Cli.Start(resume ? ["train", "--resume", "--run", run] : args);
            var before = File.Exists(ckpt) ? File.GetLastWriteTimeUtc(ckpt) : DateTime.MinValue;
            var started = child.WaitFor(() => File.Exists(ckpt) && File.GetLastWriteTimeUtc(ckpt) > before, limit);
            if (!started || child.HasExited) { child.Wait(limit); break; }
            Thread.Sleep(random.Next(0, maxDelayMs));
            if (child.HasExited) { Assert.Equal(0, child.Wait(limit).Code); break; }
            child.Signal("KILL");
            child.Wait(limit);
            kills++;
            var h = Hypha.Training.Checkpoint.ReadHeader(ckpt);
            log.WriteLine($"kill {kills}: checkpoint at epoch {h.Epoch} step {h.StepInEpoch}");
        }
        return kills;
    }
}
