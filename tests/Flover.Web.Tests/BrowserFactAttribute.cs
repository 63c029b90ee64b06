namespace Flover.Web.Tests;

/// <summary>
/// A browser test: skipped with a message when no chromium is installed, except under
/// <c>CI=true</c>, where a missing browser fails the test instead (.ci/run installs it).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (Chromium.Executable is null && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = "chromium is not installed (apt-get install chromium, or set FLOVER_CHROMIUM); the page's browser tests need it.";
        }
    }
}

/// <summary>The system's chromium, which Playwright drives (it cannot download its own browsers here).</summary>
public static class Chromium
{
    /// <summary>FLOVER_CHROMIUM, else Debian's chromium, else null.</summary>
    public static string? Executable { get; } =
        new[] { Environment.GetEnvironmentVariable("FLOVER_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser" }
            .FirstOrDefault(path => !string.IsNullOrEmpty(path) && File.Exists(path));
}
