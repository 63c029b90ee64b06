using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

namespace Flover.Host.Tests.Http;

/// <summary>
/// Memory of the default <c>serve</c> (the gpt2 preset, 64 KV slots of 1024 positions: a 4.5 GiB
/// pool), read from /proc: it follows the tokens held, not the pool configured. These figures are the
/// ones docs/OPERATIONS.md and the README state.
/// </summary>
public sealed partial class ServeProcessTests
{
    /// <summary>What docs/OPERATIONS.md promises for an idle default <c>serve</c>.</summary>
    private const long IdleLimitBytes = 1L << 30;

    /// <summary>KV bytes one token holds in gpt2: 12 layers x keys and values x 768 floats.</summary>
    private const long Gpt2KvBytesPerToken = 12 * 2 * 768 * sizeof(float);

    [Fact]
    [Trait("Category", "Slow")]
    public async Task The_default_serve_idles_under_a_gibibyte_grows_with_the_tokens_held_and_gives_them_back()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // Resident memory is read from /proc.
        }

        using Process serve = StartServe("--preset", "gpt2");
        Task<string> stderr = serve.StandardError.ReadToEndAsync();
        try
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            using HttpClient client = await ReadyClientAsync(serve, stderr, limit.Token, model: "gpt2");
            long idle = ResidentBytes(serve);
            Assert.True(idle < IdleLimitBytes, $"idle serve holds {idle:N0} bytes");

            // Four sequences of 300 prompt tokens + 60 generated: 1,440 tokens held at the end.
            const int Requests = 4;
            const int PromptTokens = 300;
            const int Generated = 60;
            string prompt = string.Concat(Enumerable.Repeat(" the", PromptTokens));
            string body = $$"""{"prompt":"{{prompt}}","max_tokens":{{Generated}},"ignore_eos":true,"temperature":0}""";
            Task<HttpResponseMessage>[] burst = [.. Enumerable.Range(0, Requests).Select(_ => client.PostAsync("v1/completions", new StringContent(body, Encoding.UTF8, "application/json"), limit.Token))];
            long peak = idle;
            while (!burst.All(t => t.IsCompleted))
            {
                peak = Math.Max(peak, ResidentBytes(serve));
                await Task.WhenAny(Task.WhenAll(burst), Task.Delay(20, limit.Token));
            }

            foreach (Task<HttpResponseMessage> response in burst)
            {
                Assert.Equal(HttpStatusCode.OK, (await response).StatusCode);
            }

            long held = Requests * (PromptTokens + Generated) * Gpt2KvBytesPerToken;
            Assert.True(peak - idle >= held * 9 / 10, $"peak {peak:N0} vs idle {idle:N0}: the burst's {held:N0} KV bytes did not show");
            // The slots are handed back by the step after the last departure, which may still be
            // running when the last response arrives: wait for it (bounded by the test's limit).
            long after = ResidentBytes(serve);
            while (peak - after < held * 9 / 10 && !limit.IsCancellationRequested)
            {
                await Task.Delay(20, CancellationToken.None);
                after = ResidentBytes(serve);
            }

            Assert.True(after < IdleLimitBytes, $"after the burst serve holds {after:N0} bytes");
            Assert.True(peak - after >= held * 9 / 10, $"after the burst {after:N0} bytes, peak {peak:N0}: the KV memory was not given back");
        }
        finally
        {
            if (!serve.HasExited)
            {
                serve.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>VmRSS of a live process, from /proc.</summary>
    private static long ResidentBytes(Process process)
    {
        foreach (string line in File.ReadLines($"/proc/{process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException("no VmRSS line");
    }
}
