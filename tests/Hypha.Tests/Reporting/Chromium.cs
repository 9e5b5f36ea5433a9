using System.Diagnostics;

namespace Hypha.Tests.Reporting;

/// <summary>
/// Headless Chromium (Debian package <c>chromium</c>, installed by .ci/run) for tests that render the HTML report.
/// <see cref="Require"/> fails with a clear message in CI (environment variable CI set) when it is missing, and
/// skips the test elsewhere.
/// </summary>
public static class Chromium
{
    /// <summary>HYPHA_CHROMIUM if set, else the first of chromium / chromium-browser found on PATH or in /usr/bin.</summary>
    public static string? Find()
    {
        var env = Environment.GetEnvironmentVariable("HYPHA_CHROMIUM");
        if (!string.IsNullOrEmpty(env)) return File.Exists(env) ? env : null;
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin");
        foreach (var name in new[] { "chromium", "chromium-browser" })
        foreach (var d in dirs)
        {
            var p = Path.Combine(d, name);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    /// <summary>The browser's path; outside CI a missing browser skips the test, in CI it fails it.</summary>
    public static string Require()
    {
        var path = Find();
        if (path is not null) return path;
        const string message = "chromium not found (install the Debian package: apt-get install -y chromium, as .ci/run does; or set HYPHA_CHROMIUM)";
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"))) Assert.Fail(message);
        Skip.If(true, message + "; skipped because CI is not set");
        return "";
    }

    /// <summary>Runs the browser headless on <paramref name="url"/> with <paramref name="extra"/> arguments and a fresh profile; returns stdout.</summary>
    public static string Run(string browser, string url, IEnumerable<string> extra, TimeSpan? timeout = null)
    {
        using var profile = new TempDir();
        var psi = new ProcessStartInfo(browser) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", $"--user-data-dir={profile.Path}" }
                     .Concat(extra).Append(url))
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {browser}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"chromium did not finish within {(timeout ?? TimeSpan.FromSeconds(120)).TotalSeconds} s");
        }
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"chromium exited with {process.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }
}
