using System.Net;
using System.Text.Json;

namespace Flover.Host.Tests.Http;

/// <summary>POST /v1/completions on the tiny preset, in-process.</summary>
[Collection(TinyServerCollection.Name)]
public sealed class CompletionsEndpointTests(TinyServerFixture server)
{
    private const string Path = "/v1/completions";

    [Fact]
    public async Task A_completion_has_the_requested_length_and_usage()
    {
        (HttpStatusCode status, JsonElement body) = await HttpTestClient.PostAsync(server.Client, Path, """{"prompt":"Hello, my name is","max_tokens":5,"seed":7,"ignore_eos":true}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("text_completion", body.GetProperty("object").GetString());
        Assert.Equal(TinyServerFixture.ModelId, body.GetProperty("model").GetString());
        JsonElement choice = body.GetProperty("choices")[0];
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.False(string.IsNullOrEmpty(choice.GetProperty("text").GetString()));
        JsonElement usage = body.GetProperty("usage");
        Assert.Equal((5, 5, 10), (usage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("completion_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32()));
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_text_and_a_token_id_prompt_equals_its_text()
    {
        string byText = await TextAsync("""{"prompt":"Hello","max_tokens":8,"seed":42,"ignore_eos":true}""");
        string again = await TextAsync("""{"prompt":"Hello","max_tokens":8,"seed":42,"ignore_eos":true}""");
        string byIds = await TextAsync("""{"prompt":[15496],"max_tokens":8,"seed":42,"ignore_eos":true}""");

        Assert.Equal(byText, again);
        Assert.Equal(byText, byIds);
    }

    [Fact]
    public async Task Concurrent_requests_fused_into_one_batch_get_the_text_each_gets_alone()
    {
        string[] bodies = [.. Enumerable.Range(1, 6).Select(i => $$"""{"prompt":"Request {{i}} says","max_tokens":{{4 + (3 * i)}},"seed":{{i}},"ignore_eos":true}""")];
        var alone = new List<string>();
        foreach (string body in bodies)
        {
            alone.Add(await TextAsync(body));
        }

        string[] together = await Task.WhenAll(bodies.Select(TextAsync));

        Assert.Equal(alone, together);
    }

    [Fact]
    public async Task Streamed_deltas_joined_equal_the_non_streamed_text()
    {
        const string Fields = "\"prompt\":\"The fox\",\"max_tokens\":24,\"seed\":3,\"temperature\":1.5,\"ignore_eos\":true";
        string whole = await TextAsync("{" + Fields + "}");

        SseResult stream = await HttpTestClient.StreamAsync(server.Client, Path, "{" + Fields + ",\"stream\":true}");

        Assert.Equal(HttpStatusCode.OK, stream.Status);
        Assert.Equal("text/event-stream", stream.MediaType);
        Assert.Equal("[DONE]", stream.Events[^1]);
        Assert.Equal(whole, HttpTestClient.JoinedText(stream.Events));
        Assert.Equal("length", stream.Event(stream.Events.Count - 2).GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Incomplete_utf8_is_never_split_and_a_tail_left_open_arrives_as_a_replacement_character()
    {
        // A token that is one UTF-8 lead byte, forced by logit_bias: each next lead byte leaves the
        // previous character unfinished (U+FFFD), and the last one is flushed at the end.
        int leadByte = Enumerable.Range(0, 256).Single(id => server.Engine.Model.Tokenizer.DecodeToUtf8([id]) is [0xF0]);
        string fields = $$"""
            "prompt":"x","max_tokens":4,"temperature":0,"ignore_eos":true,"logit_bias":{"{{leadByte}}":100}
            """;
        string whole = await TextAsync("{" + fields + "}");

        SseResult stream = await HttpTestClient.StreamAsync(server.Client, Path, "{" + fields + ",\"stream\":true}");

        Assert.Equal(new string('\uFFFD', 4), whole);
        Assert.Equal(whole, HttpTestClient.JoinedText(stream.Events));
    }

    [Fact]
    public async Task Include_usage_adds_a_usage_chunk_before_done()
    {
        SseResult stream = await HttpTestClient.StreamAsync(server.Client, Path, """{"prompt":"Hi","max_tokens":3,"seed":1,"ignore_eos":true,"stream":true,"stream_options":{"include_usage":true}}""");

        JsonElement usageChunk = stream.Event(stream.Events.Count - 2);
        Assert.Equal(0, usageChunk.GetProperty("choices").GetArrayLength());
        Assert.Equal(3, usageChunk.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(JsonValueKind.Null, stream.Event(0).GetProperty("usage").ValueKind);
    }

    [Fact]
    public async Task A_stop_sequence_ends_the_text_before_it_with_finish_reason_stop()
    {
        string free = await TextAsync("""{"prompt":"A","max_tokens":12,"seed":5,"ignore_eos":true}""");
        string stop = free.Substring(free.Length / 2, 2);

        (HttpStatusCode status, JsonElement body) = await HttpTestClient.PostAsync(server.Client, Path, $$"""{"prompt":"A","max_tokens":12,"seed":5,"ignore_eos":true,"stop":{{JsonSerializer.Serialize(stop)}}}""");

        Assert.Equal(HttpStatusCode.OK, status);
        JsonElement choice = body.GetProperty("choices")[0];
        Assert.Equal(free[..free.IndexOf(stop, StringComparison.Ordinal)], choice.GetProperty("text").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Echo_puts_the_prompt_before_the_completion()
    {
        string plain = await TextAsync("""{"prompt":"Echo me","max_tokens":4,"seed":9,"ignore_eos":true}""");

        string echoed = await TextAsync("""{"prompt":"Echo me","max_tokens":4,"seed":9,"ignore_eos":true,"echo":true}""");

        Assert.Equal("Echo me" + plain, echoed);
    }

    [Fact]
    public async Task Logprobs_report_each_token_with_its_alternatives()
    {
        (HttpStatusCode status, JsonElement body) = await HttpTestClient.PostAsync(server.Client, Path, """{"prompt":"Hi","max_tokens":4,"seed":2,"ignore_eos":true,"logprobs":3}""");

        Assert.Equal(HttpStatusCode.OK, status);
        JsonElement logprobs = body.GetProperty("choices")[0].GetProperty("logprobs");
        Assert.Equal(4, logprobs.GetProperty("tokens").GetArrayLength());
        Assert.All(logprobs.GetProperty("token_logprobs").EnumerateArray(), l => Assert.True(l.GetDouble() <= 0));
        Assert.All(logprobs.GetProperty("top_logprobs").EnumerateArray(), t => Assert.InRange(t.EnumerateObject().Count(), 1, 3));
        Assert.Equal(0, logprobs.GetProperty("text_offset")[0].GetInt32());
        Assert.Equal(body.GetProperty("choices")[0].GetProperty("text").GetString(), string.Concat(logprobs.GetProperty("tokens").EnumerateArray().Select(t => t.GetString())));
    }

    [Fact]
    public async Task Unknown_fields_are_ignored_and_the_served_model_is_accepted()
    {
        (HttpStatusCode status, _) = await HttpTestClient.PostAsync(server.Client, Path, """{"model":"tiny","prompt":"a","max_tokens":1,"suffix":null,"tools":[{"x":1}],"metadata":{"a":"b"}}""");

        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task An_unknown_model_is_404_model_not_found()
    {
        (HttpStatusCode status, JsonElement body) = await HttpTestClient.PostAsync(server.Client, Path, """{"model":"gpt-4","prompt":"a"}""");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("model_not_found", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("model", body.GetProperty("error").GetProperty("param").GetString());
    }

    private async Task<string> TextAsync(string json)
    {
        (HttpStatusCode status, JsonElement body) = await HttpTestClient.PostAsync(server.Client, Path, json);
        Assert.Equal(HttpStatusCode.OK, status);
        return body.GetProperty("choices")[0].GetProperty("text").GetString()!;
    }
}
