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
    public async Task A_decode_loop_stuck_in_a_step_is_not_ready_and_ready_again_once_it_moves()
    {
        await using OpsServer server = await OpsServer.StartAsync("flover.http.ready-timeout = 100ms");
        server.Gate.Hold();
        Task<HttpResponseMessage> stuck = server.Client.PostAsync("/v1/completions", new StringContent("""{"prompt":"a","max_tokens":3}""", Encoding.UTF8, "application/json"));
        await server.Gate.Waiting.WaitAsync();

        (HttpStatusCode whileStuck, JsonElement body) = await HttpTestClient.GetAsync(server.Client, "/ready");
        (HttpStatusCode health, _) = await HttpTestClient.GetAsync(server.Client, "/health");
        server.Gate.Open();
        using HttpResponseMessage finished = await stuck;
        (HttpStatusCode afterwards, _) = await HttpTestClient.GetAsync(server.Client, "/ready");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, whileStuck);
        Assert.Equal("not_ready", body.GetProperty("status").GetString());
        Assert.Contains("flover.http.ready-timeout", body.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, health);
        Assert.Equal(HttpStatusCode.OK, finished.StatusCode);
        Assert.Equal(HttpStatusCode.OK, afterwards);
    }

    [Fact]
    public async Task An_engine_that_never_answers_the_probe_is_not_ready()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync("flover.http.ready-timeout = 50ms");

        (HttpStatusCode status, _) = await HttpTestClient.GetAsync(server.Client, "/ready");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
    }
}
