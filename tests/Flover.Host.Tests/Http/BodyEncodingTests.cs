using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Flover.Host.Tests.Http;

/// <summary>
/// A body that is not text is the client's mistake wherever the bad bytes are: invalid UTF-8 or a
/// lone surrogate escape in a known field, in an ignored one, or in a field name is a 400 naming the
/// problem, never a 500 with our exception's text.
/// </summary>
[Collection(TinyServerCollection.Name)]
public sealed class BodyEncodingTests(TinyServerFixture server)
{
    public static TheoryData<string, string?> SurrogateCases => new()
    {
        { """{"prompt":"a\ud800b","max_tokens":1}""", "prompt" },
        { """{"prompt":"a","max_tokens":1,"user":"\ud800"}""", "user" },
        { """{"prompt":"a","max_tokens":1,"stop":["x","\udc00"]}""", "stop[1]" },
        { """{"prompt":"a","max_tokens":1,"unknown_field":"\ud800"}""", "unknown_field" },
        { """{"prompt":"a","max_tokens":1,"\ud800":1}""", "a field name" },
    };

    [Theory]
    [MemberData(nameof(SurrogateCases))]
    public async Task A_lone_surrogate_escape_anywhere_is_a_400_naming_the_field(string body, string? field)
    {
        (HttpStatusCode status, JsonElement answer) = await HttpTestClient.PostAsync(server.Client, "/v1/completions", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        JsonElement error = answer.GetProperty("error");
        Assert.Equal(field, error.GetProperty("param").GetString());
        Assert.Contains("unpaired surrogate", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("prompt")]
    [InlineData("user")]
    [InlineData("unknown_field")]
    public async Task Invalid_utf8_bytes_in_any_field_are_a_400_saying_where(string field)
    {
        byte[] before = Encoding.UTF8.GetBytes($$"""{"prompt":"a","max_tokens":1,"{{field}}2":"x","{{field}}":"ok""");
        byte[] body = [.. before, 0xC3, 0x28, .. "\"}"u8.ToArray()];
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using HttpResponseMessage response = await server.Client.PostAsync("/v1/completions", content);
        using JsonDocument answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        string message = answer.RootElement.GetProperty("error").GetProperty("message").GetString()!;
        Assert.Equal($"The request body is not valid UTF-8 (at byte {before.Length}).", message);
    }
}
