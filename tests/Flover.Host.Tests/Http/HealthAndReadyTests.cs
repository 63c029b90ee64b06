using System.Net;
using System.Text;
using System.Text.Json;

namespace Flover.Host.Tests.Http;

/// <summary>/health says the process answers; /ready says the decode loop answers its probe in time, so a hung loop shows.</summary>
public sealed class HealthAndReadyTests
{
    [Fact]
    public async Task Health_is_alive_and_ready_reports_the_loop_state()
    {
        await using OpsServer server = await OpsServer.StartAsync("flover.engine.kv-slots = 3");

        (HttpStatusCode healthStatus, JsonElement health) = await HttpTestClient.GetAsync(server.Client, "/health");
        (HttpStatusCode readyStatus, JsonElement ready) = await HttpTestClient.GetAsync(server.Client, "/ready");

        Assert.Equal((HttpStatusCode.OK, "alive"), (healthStatus, health.GetProperty("status").GetString()));
        Assert.Equal((HttpStatusCode.OK, "ready"), (readyStatus, ready.GetProperty("status").GetString()));
        Assert.Equal((0, 3), (ready.GetProperty("kv_slots_used").GetInt32(), ready.GetProperty("kv_slots_free").GetInt32()));
    }

    [Fact]
    public async Task A_step_past_its_deadline_is_not_ready_and_the_request_still_completes_once_the_shard_moves()
    {
        await using OpsServer server = await OpsServer.StartAsync("flover.engine.step-timeout = 300ms");
        server.Gate.Hold();
        Task<HttpResponseMessage> stuck = server.Client.PostAsync("/v1/completions", new StringContent("""{"prompt":"a","max_tokens":3}""", Encoding.UTF8, "application/json"));
        await server.Gate.Waiting.WaitAsync();

        // The loop answers while its shard computes; the step turns it not ready once older than
        // flover.engine.step-timeout.
        (HttpStatusCode whileStuck, JsonElement body) = await ReadyUntilAsync(server, HttpStatusCode.ServiceUnavailable);
        (HttpStatusCode health, _) = await HttpTestClient.GetAsync(server.Client, "/health");
        server.Gate.Open();
        using HttpResponseMessage finished = await stuck;
        (HttpStatusCode afterwards, _) = await ReadyUntilAsync(server, HttpStatusCode.OK);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, whileStuck);
        Assert.Equal("not_ready", body.GetProperty("status").GetString());
        Assert.Contains("past its deadline", body.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, health);
        Assert.Equal(HttpStatusCode.OK, finished.StatusCode);
        Assert.Equal(HttpStatusCode.OK, afterwards);
    }

    /// <summary>Polls /ready until it answers <paramref name="wanted"/> (bounded by the test's own timeout).</summary>
    private static async Task<(HttpStatusCode, JsonElement)> ReadyUntilAsync(OpsServer server, HttpStatusCode wanted)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            (HttpStatusCode status, JsonElement body) = await HttpTestClient.GetAsync(server.Client, "/ready");
            if (status == wanted)
            {
                return (status, body);
            }

            // A poll, not a timing assumption: the status decides, the delay only spaces requests.
            await Task.Delay(10, limit.Token);
        }
    }

    [Fact]
    public async Task An_engine_that_never_answers_the_probe_is_not_ready()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync("flover.http.ready-timeout = 50ms");

        (HttpStatusCode status, _) = await HttpTestClient.GetAsync(server.Client, "/ready");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
    }
}
