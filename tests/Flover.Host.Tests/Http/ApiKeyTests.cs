using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Flover.Host.Http;

namespace Flover.Host.Tests.Http;

/// <summary>API keys: a 401 in OpenAI's error shape without a valid bearer key; the operations paths stay open.</summary>
public sealed class ApiKeyTests
{
    private const string Keys = """flover.http.api-keys = ["key-one", "key-two"]""";

    [Theory]
    [InlineData(null, "didn't provide an API key")]
    [InlineData("Bearer wrong", "Incorrect API key")]
    [InlineData("Basic a2V5LW9uZQ==", "didn't provide an API key")]
    [InlineData("Bearer key-one-and-more", "Incorrect API key")]
    public async Task A_request_without_a_valid_bearer_key_is_401_with_an_openai_error(string? authorization, string message)
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync(Keys);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using HttpResponseMessage response = await server.Client.SendAsync(request);
        JsonElement error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(("invalid_request_error", "invalid_api_key"), (error.GetProperty("type").GetString(), error.GetProperty("code").GetString()));
        Assert.Contains(message, error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("key-one")]
    [InlineData("key-two")]
    public async Task Any_configured_key_is_accepted(string key)
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync(Keys);
        using HttpClient client = server.Client;
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

        using HttpResponseMessage response = await client.GetAsync("/v1/models");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Health_and_metrics_stay_open_and_generation_needs_the_key()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync(Keys);

        using HttpResponseMessage health = await server.Client.GetAsync("/health");
        using HttpResponseMessage metrics = await server.Client.GetAsync("/metrics");
        using HttpResponseMessage completion = await server.Client.PostAsync("/v1/completions", new StringContent("""{"prompt":"a"}"""));

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.Unauthorized), (health.StatusCode, metrics.StatusCode, completion.StatusCode));
    }

    [Fact]
    public async Task The_open_paths_are_configurable()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync(Keys, """flover.http.unauthenticated-paths = ["/health"]""");

        using HttpResponseMessage health = await server.Client.GetAsync("/health");
        using HttpResponseMessage metrics = await server.Client.GetAsync("/metrics");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.Unauthorized), (health.StatusCode, metrics.StatusCode));
    }

    [Fact]
    public async Task Without_keys_every_request_is_served()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();

        using HttpResponseMessage models = await server.Client.GetAsync("/v1/models");

        Assert.Equal(HttpStatusCode.OK, models.StatusCode);
    }

    [Fact]
    public void The_environment_keys_join_the_configured_ones_comma_separated_without_blanks_or_duplicates()
    {
        Assert.Equal(["a", "b", "c"], ApiKeys.Merge(["a"], " b, ,a,c,"));
        Assert.Equal(["a"], ApiKeys.Merge(["a"], null));
        Assert.Empty(ApiKeys.Merge([], ""));
    }
}
