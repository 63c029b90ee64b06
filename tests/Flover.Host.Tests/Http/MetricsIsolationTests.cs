using System.Net;
using System.Text;

namespace Flover.Host.Tests.Http;

/// <summary>Two servers in one process: each /metrics shows its own engine, its own requests and its own ASP.NET Core meters.</summary>
public sealed class MetricsIsolationTests
{
    [Fact]
    public async Task Each_server_exports_only_its_own_engine_requests_and_hosting_meters()
    {
        await using OpsServer busy = await OpsServer.StartAsync();
        await using OpsServer quiet = await OpsServer.StartAsync();
        using HttpResponseMessage response = await busy.Client.PostAsync("/v1/completions", new StringContent("""{"prompt":"Hello there","max_tokens":3,"ignore_eos":true}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        string busyMetrics = await busy.ScrapeAsync();
        string quietMetrics = await quiet.ScrapeAsync();

        Assert.Equal(3, OpsServer.Sample(busyMetrics, "flover_generation_tokens_total"));
        Assert.Equal(0, OpsServer.Sample(quietMetrics, "flover_generation_tokens_total"));
        Assert.Equal(1, OpsServer.Sample(busyMetrics, """flover_requests_total{finish_reason="length",status="200"}"""));
        Assert.DoesNotContain("flover_requests_total{", quietMetrics, StringComparison.Ordinal);
        // ASP.NET Core's hosting meter, through the adapter: the completion was served by busy only.
        Assert.Contains("http_route=\"/v1/completions\"", busyMetrics, StringComparison.Ordinal);
        Assert.DoesNotContain("http_route=\"/v1/completions\"", quietMetrics, StringComparison.Ordinal);
    }
}
