using Microsoft.Playwright;

namespace Flover.Web.Tests;

/// <summary>One server without keys and one chromium for the page tests of a class.</summary>
public sealed class PageFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public ServeProcess Server { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (Chromium.Executable is null)
        {
            return; // The tests are skipped (or, under CI=true, fail on the missing browser).
        }

        Server = await ServeProcess.StartAsync();
        _playwright = await Playwright.CreateAsync();
        // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
        Browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium.Executable, Headless = true, Args = ["--no-sandbox"] });
    }

    public async Task DisposeAsync()
    {
        if (Chromium.Executable is null)
        {
            return;
        }

        await Browser.DisposeAsync();
        _playwright?.Dispose();
        await Server.DisposeAsync();
    }

    /// <summary>
    /// A fresh page on the server's <c>/</c>, recording console errors and page errors into
    /// <paramref name="errors"/>, once its event stream is live (or, with <paramref name="expectLive"/>
    /// false, refused).
    /// </summary>
    public async Task<IPage> OpenAsync(List<string> errors, ServeProcess? server = null, bool expectLive = true)
    {
        Assert.NotNull(Chromium.Executable);
        IPage page = await Browser.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text);
            }
        };
        page.PageError += (_, error) => errors.Add(error);
        await page.GotoAsync((server ?? Server).Url.ToString());
        // Once the page says live, the server holds it as a viewer: every later iteration reaches it.
        await Assertions.Expect(page.Locator("#live")).ToHaveTextAsync(expectLive ? "live" : "off", new() { Timeout = 60_000 });
        return page;
    }
}
