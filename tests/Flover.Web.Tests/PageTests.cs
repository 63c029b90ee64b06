using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Flover.Web.Tests;

/// <summary>The built-in page in chromium against a real <c>serve</c> (tiny preset, 4 KV slots).</summary>
public sealed class PageTests(PageFixture fixture) : IClassFixture<PageFixture>
{
    // Waits go through locator assertions: the page's CSP forbids eval, which WaitForFunction needs.
    private static readonly LocatorAssertionsToHaveTextOptions s_text = new() { Timeout = 60_000 };
    private static readonly LocatorAssertionsToHaveCountOptions s_count = new() { Timeout = 60_000 };

    [BrowserFact]
    public async Task The_page_loads_without_console_errors_and_names_the_model()
    {
        var errors = new List<string>();
        IPage page = await fixture.OpenAsync(errors);

        await Expect(page.Locator("#model")).ToHaveTextAsync("tiny", s_text);

        Assert.Empty(errors);
        await page.CloseAsync();
    }

    [BrowserFact]
    public async Task A_chat_streams_tokens_into_the_page_and_ends_with_a_finish_reason()
    {
        var errors = new List<string>();
        IPage page = await fixture.OpenAsync(errors);
        await page.FillAsync("#prompt", "Hello");
        await page.FillAsync("#max_tokens", "8");
        await page.FillAsync("#seed", "1");

        await page.ClickAsync("#send");
        await Expect(page.Locator("#status")).ToHaveTextAsync(new Regex("^finish_reason: "), s_text);

        string status = await page.TextContentAsync("#status") ?? string.Empty;
        Assert.Matches("^finish_reason: (length|stop) · [0-9]+ prompt \\+ [1-8] generated tokens · [0-9]+ ms to first token$", status);
        Assert.NotEqual(string.Empty, await page.TextContentAsync("#output"));
        await Screenshot(page, "page-playground.png");
        Assert.Empty(errors);
        await page.CloseAsync();
    }

    [BrowserFact]
    public async Task Stop_ends_the_stream_and_the_server_frees_the_slot()
    {
        var errors = new List<string>();
        IPage page = await fixture.OpenAsync(errors);
        await page.ClickAsync("input[value=completion]");
        await page.FillAsync("#prompt", "Once upon a time");
        await page.FillAsync("#max_tokens", "240");

        await page.ClickAsync("#send");
        await Expect(page.Locator("#output")).ToHaveTextAsync(new Regex("."), s_text);
        await page.ClickAsync("#cancel");
        await Expect(page.Locator("#status")).ToHaveTextAsync(new Regex("^stopped"), s_text);

        using var client = new HttpClient { BaseAddress = fixture.Server.Url };
        await WaitForMetricAsync(client, "flover_kv_slots_used 0");
        Assert.Empty(errors);
        await page.CloseAsync();
    }

    [BrowserFact]
    public async Task Requests_in_flight_appear_in_the_slot_map_and_leave_it()
    {
        var errors = new List<string>();
        IPage page = await fixture.OpenAsync(errors);
        using var client = new HttpClient { BaseAddress = fixture.Server.Url };
        using var stop = new CancellationTokenSource();
        const string Body = """{"prompt":"a","max_tokens":240,"ignore_eos":true,"stream":true}""";
        Task<HttpResponseMessage>[] requests = [.. Enumerable.Range(0, 3).Select(_ => client.PostAsync("v1/completions", new StringContent(Body, Encoding.UTF8, "application/json"), stop.Token))];

        await Expect(page.Locator("#slots .slot.held")).ToHaveCountAsync(3, s_count);
        await stop.CancelAsync();
        await Expect(page.Locator("#slots .slot.held")).ToHaveCountAsync(0, s_count);

        Assert.Equal(4, await page.Locator("#slots .slot").CountAsync());
        Assert.All(requests, r => Assert.True(r.IsCanceled || r.IsCompleted));
        Assert.Empty(errors);
        await page.CloseAsync();
    }

    [BrowserFact]
    public async Task A_short_request_between_two_long_ones_leaves_a_hole_and_shuffle_moves_the_last_one_into_it()
    {
        // Admitted one after another (each streams before the next is sent), they take slots 0, 1, 2;
        // the middle one ends after 4 tokens while the others run on.
        foreach (string mode in (string[])["holes", "shuffle"])
        {
            await using ServeProcess server = await ServeProcess.StartAsync($"flover.engine.memory-mode={mode}");
            var errors = new List<string>();
            IPage page = await fixture.OpenAsync(errors, server);
            using var client = new HttpClient { BaseAddress = server.Url };
            using var stop = new CancellationTokenSource();
            var streams = new List<HttpResponseMessage>();
            foreach (int tokens in (int[])[240, 4, 240])
            {
                var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = new StringContent($$"""{"prompt":"a","max_tokens":{{tokens}},"ignore_eos":true,"stream":true}""", Encoding.UTF8, "application/json") };
                HttpResponseMessage response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stop.Token);
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stop.Token), leaveOpen: true);
                Assert.StartsWith("data: ", await reader.ReadLineAsync(stop.Token), StringComparison.Ordinal);
                streams.Add(response);
            }

            if (mode == "holes")
            {
                await Expect(page.Locator("#slots .slot.hole")).ToHaveCountAsync(1, s_count);
                await Screenshot(page, "page-holes.png");
            }
            else
            {
                await Expect(page.Locator("#moves")).ToHaveTextAsync("2→1", s_text);
                await Screenshot(page, "page-shuffle.png");
            }

            await stop.CancelAsync();
            streams.ForEach(s => s.Dispose());
            Assert.Empty(errors);
            await page.CloseAsync();
        }
    }

    [BrowserFact]
    public async Task Model_output_that_looks_like_html_is_shown_as_text()
    {
        var errors = new List<string>();
        IPage page = await fixture.OpenAsync(errors);
        const string Html = "<b>bold</b><img src=x onerror=\"document.title='owned'\">";
        string chunk = System.Text.Json.JsonSerializer.Serialize(new { choices = new[] { new { index = 0, delta = new { content = Html }, finish_reason = (string?)null } } });
        string last = """{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}""";
        // The model's words are whatever the server streams: answer this one request with HTML.
        await page.RouteAsync("**/v1/chat/completions", route => route.FulfillAsync(new() { Status = 200, ContentType = "text/event-stream", Body = $"data: {chunk}\n\ndata: {last}\n\ndata: [DONE]\n\n" }));

        await page.ClickAsync("#send");
        await Expect(page.Locator("#status")).ToHaveTextAsync(new Regex("^finish_reason: stop"), s_text);

        Assert.Equal(Html, await page.TextContentAsync("#output"));
        Assert.Equal(0, await page.Locator("#output b, #output img").CountAsync());
        Assert.NotEqual("owned", await page.TitleAsync());
        Assert.Empty(errors);
        await page.CloseAsync();
    }

    [BrowserFact]
    public async Task With_keys_a_wrong_key_shows_the_api_s_401_message()
    {
        await using ServeProcess keyed = await ServeProcess.StartAsync("flover.http.api-keys=[\"sk-right\"]");
        var errors = new List<string>();
        IPage page = await fixture.OpenAsync(errors, keyed, expectLive: false);

        await page.FillAsync("#api-key", "sk-wrong");
        await page.DispatchEventAsync("#api-key", "change");
        await Expect(page.Locator("#error")).ToHaveTextAsync("401: Incorrect API key provided.", s_text);

        Assert.Equal("401: Incorrect API key provided.", await page.TextContentAsync("#error"));
        await page.FillAsync("#api-key", "sk-right");
        await page.DispatchEventAsync("#api-key", "change");
        await Expect(page.Locator("#model")).ToHaveTextAsync("tiny", s_text);
        await Expect(page.Locator("#live")).ToHaveTextAsync("live", s_text);
        await page.CloseAsync();
    }

    /// <summary>Saves a screenshot under FLOVER_SCREENSHOTS when it is set (how docs/images gets its pictures).</summary>
    private static async Task Screenshot(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("FLOVER_SCREENSHOTS") is { Length: > 0 } folder)
        {
            await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name), FullPage = true });
        }
    }

    private static async Task WaitForMetricAsync(HttpClient client, string line)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (!(await client.GetStringAsync("metrics", limit.Token)).Split('\n').Contains(line))
        {
            await Task.Delay(50, limit.Token);
        }
    }
}
