using System.Net;
using System.Text.Json;

namespace Flover.Host.Tests.Http;

/// <summary>Every client mistake is a 400 (413 for size) with OpenAI's error object naming the field.</summary>
[Collection(TinyServerCollection.Name)]
public sealed class ValidationTests(TinyServerFixture server)
{
    private const string C = "/v1/completions";
    private const string Chat = "/v1/chat/completions";
    private const string Hi = "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]";

    public static TheoryData<string, string, string?> Cases => new()
    {
        // Body
        { C, """{"prompt":""", null },
        { C, "[1,2]", null },
        { C, "\"text\"", null },
        { C, string.Empty, null },
        // Prompt
        { C, "{}", "prompt" },
        { C, """{"prompt":null}""", "prompt" },
        { C, """{"prompt":""}""", "prompt" },
        { C, """{"prompt":[]}""", "prompt" },
        { C, """{"prompt":5}""", "prompt" },
        { C, """{"prompt":["a","b"]}""", "prompt" },
        { C, """{"prompt":[1,-1]}""", "prompt[1]" },
        { C, """{"prompt":[50257]}""", "prompt[0]" },
        { C, """{"prompt":[1.5]}""", "prompt[0]" },
        { C, """{"prompt":[1,"x"]}""", "prompt" },
        // Token budget and context (tiny: 256 positions)
        { C, """{"prompt":"a","max_tokens":0}""", "max_tokens" },
        { C, """{"prompt":"a","max_tokens":"5"}""", "max_tokens" },
        { C, """{"prompt":"a","max_tokens":256}""", "max_tokens" },
        { C, "{\"prompt\":[" + string.Join(',', Enumerable.Repeat(1, 256)) + "]}", "prompt" },
        // Sampling ranges and types
        { C, """{"prompt":"a","temperature":-0.1}""", "temperature" },
        { C, """{"prompt":"a","temperature":2.5}""", "temperature" },
        { C, """{"prompt":"a","temperature":"hot"}""", "temperature" },
        { C, """{"prompt":"a","top_p":0}""", "top_p" },
        { C, """{"prompt":"a","top_p":1.01}""", "top_p" },
        { C, """{"prompt":"a","top_k":-1}""", "top_k" },
        { C, """{"prompt":"a","presence_penalty":2.5}""", "presence_penalty" },
        { C, """{"prompt":"a","frequency_penalty":-2.01}""", "frequency_penalty" },
        { C, """{"prompt":"a","repetition_penalty":0}""", "repetition_penalty" },
        { C, """{"prompt":"a","seed":"x"}""", "seed" },
        { C, """{"prompt":"a","logit_bias":{"abc":1}}""", "logit_bias" },
        { C, """{"prompt":"a","logit_bias":{"5":"x"}}""", "logit_bias.5" },
        { C, """{"prompt":"a","ignore_eos":1}""", "ignore_eos" },
        { C, """{"prompt":"a","user":5}""", "user" },
        { C, """{"prompt":"a","model":5}""", "model" },
        // Stop
        { C, """{"prompt":"a","stop":5}""", "stop" },
        { C, """{"prompt":"a","stop":[1]}""", "stop[0]" },
        { C, """{"prompt":"a","stop":["a","b","c","d","e"]}""", "stop" },
        { C, """{"prompt":"a","stop":""}""", "stop" },
        // Choices, logprobs, echo, streaming
        { C, """{"prompt":"a","n":2}""", "n" },
        { C, """{"prompt":"a","logprobs":6}""", "logprobs" },
        { C, """{"prompt":"a","logprobs":-1}""", "logprobs" },
        { C, """{"prompt":"a","echo":"yes"}""", "echo" },
        { C, """{"prompt":"a","echo":true,"logprobs":1}""", "echo" },
        { C, """{"prompt":"a","stream":"yes"}""", "stream" },
        { C, """{"prompt":"a","stream_options":{"include_usage":true}}""", "stream_options" },
        { C, """{"prompt":"a","stream":true,"stream_options":{"include_usage":1}}""", "stream_options.include_usage" },
        { C, """{"prompt":"a","stream":true,"stream_options":[]}""", "stream_options" },
        // Chat messages
        { Chat, "{}", "messages" },
        { Chat, """{"messages":[]}""", "messages" },
        { Chat, """{"messages":"hi"}""", "messages" },
        { Chat, """{"messages":[1]}""", "messages[0]" },
        { Chat, """{"messages":[{"content":"x"}]}""", "messages[0].role" },
        { Chat, """{"messages":[{"role":"user","content":"x"},{"role":"tool","content":"x"}]}""", "messages[1].role" },
        { Chat, """{"messages":[{"role":"user"}]}""", "messages[0].content" },
        { Chat, """{"messages":[{"role":"user","content":null}]}""", "messages[0].content" },
        { Chat, """{"messages":[{"role":"user","content":5}]}""", "messages[0].content" },
        { Chat, """{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}""", "messages[0].content[0].type" },
        // Chat fields
        { Chat, "{" + Hi + ""","max_completion_tokens":0}""", "max_completion_tokens" },
        { Chat, "{" + Hi + ""","max_tokens":1000}""", "max_tokens" },
        { Chat, "{" + Hi + ""","temperature":3}""", "temperature" },
        { Chat, "{" + Hi + ""","logprobs":"yes"}""", "logprobs" },
        { Chat, "{" + Hi + ""","top_logprobs":2}""", "top_logprobs" },
        { Chat, "{" + Hi + ""","logprobs":true,"top_logprobs":21}""", "top_logprobs" },
        { Chat, "{" + Hi + ""","response_format":{"type":"json_object"}}""", "response_format.type" },
        { Chat, "{" + Hi + ""","response_format":"text"}""", "response_format" },
        { Chat, "{" + Hi + ""","stop":["a",2]}""", "stop[1]" },
        { Chat, "{" + Hi + ""","n":0}""", "n" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_bad_request_is_a_400_naming_the_field(string path, string body, string? param)
    {
        (HttpStatusCode status, JsonElement answer) = await HttpTestClient.PostAsync(server.Client, path, body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        JsonElement error = answer.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.True(error.TryGetProperty("code", out _));
        string message = error.GetProperty("message").GetString()!;
        Assert.Contains(param ?? "JSON", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413()
    {
        string body = $$"""{"prompt":"a","padding":"{{new string('x', TinyServerFixture.BodyLimit)}}"}""";

        (HttpStatusCode status, JsonElement answer) = await HttpTestClient.PostAsync(server.Client, C, body);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("request_too_large", answer.GetProperty("error").GetProperty("code").GetString());
    }
}
