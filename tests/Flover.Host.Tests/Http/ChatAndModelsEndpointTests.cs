using System.Net;
using System.Text.Json;
using Flover.Host.Http;

namespace Flover.Host.Tests.Http;

/// <summary>POST /v1/chat/completions and GET /v1/models on the tiny preset, in-process.</summary>
[Collection(TinyServerCollection.Name)]
public sealed class ChatAndModelsEndpointTests(TinyServerFixture server)
{
    private const string Path = "/v1/chat/completions";
    private const string Messages = "\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hi\"}]}]";

    [Fact]
    public async Task A_chat_completion_answers_as_the_assistant_with_usage()
    {
        (HttpStatusCode status, JsonElement body) = await HttpTestClient.PostAsync(server.Client, Path, "{" + Messages + ""","max_tokens":4,"seed":1,"ignore_eos":true}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
        JsonElement choice = body.GetProperty("choices")[0];
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        int promptTokens = server.Engine.Model.Tokenizer.Encode("System: Be brief.\n\nUser: Hi\n\nAssistant:").Length;
        Assert.Equal(promptTokens, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public void The_chat_template_renders_roles_in_order_and_ends_with_the_assistant()
    {
        string prompt = ChatTemplate.Render([("system", "S"), ("user", "U"), ("assistant", "A"), ("developer", "D")]);

        Assert.Equal("System: S\n\nUser: U\n\nAssistant: A\n\nSystem: D\n\nAssistant:", prompt);
    }

    [Fact]
    public async Task A_chat_stream_opens_with_the_role_and_its_deltas_join_to_the_whole_answer()
    {
        string fields = Messages + ""","max_tokens":16,"seed":11,"ignore_eos":true,"response_format":{"type":"text"}""";
        (_, JsonElement whole) = await HttpTestClient.PostAsync(server.Client, Path, "{" + fields + "}");

        SseResult stream = await HttpTestClient.StreamAsync(server.Client, Path, "{" + fields + ""","stream":true}""");

        Assert.Equal("assistant", stream.Event(0).GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal("chat.completion.chunk", stream.Event(0).GetProperty("object").GetString());
        Assert.Equal(whole.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), HttpTestClient.JoinedText(stream.Events));
        Assert.Equal("length", stream.Event(stream.Events.Count - 2).GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal("[DONE]", stream.Events[^1]);
    }

    [Fact]
    public async Task Chat_logprobs_give_each_token_its_bytes_and_top_alternatives()
    {
        (HttpStatusCode status, JsonElement body) = await HttpTestClient.PostAsync(server.Client, Path, "{" + Messages + ""","max_tokens":3,"seed":4,"ignore_eos":true,"logprobs":true,"top_logprobs":2}""");

        Assert.Equal(HttpStatusCode.OK, status);
        JsonElement content = body.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("content");
        Assert.Equal(3, content.GetArrayLength());
        Assert.All(content.EnumerateArray(), t =>
        {
            Assert.Equal(2, t.GetProperty("top_logprobs").GetArrayLength());
            Assert.NotEqual(0, t.GetProperty("bytes").GetArrayLength());
        });
    }

    [Fact]
    public async Task Models_lists_the_served_model_and_unknown_ids_are_404()
    {
        (HttpStatusCode status, JsonElement list) = await HttpTestClient.GetAsync(server.Client, "/v1/models");
        (HttpStatusCode one, JsonElement model) = await HttpTestClient.GetAsync(server.Client, "/v1/models/tiny");
        (HttpStatusCode missing, JsonElement error) = await HttpTestClient.GetAsync(server.Client, "/v1/models/gpt-4");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("list", list.GetProperty("object").GetString());
        Assert.Equal("tiny", list.GetProperty("data")[0].GetProperty("id").GetString());
        Assert.Equal(256, list.GetProperty("data")[0].GetProperty("max_model_len").GetInt32());
        Assert.Equal((HttpStatusCode.OK, "model"), (one, model.GetProperty("object").GetString()));
        Assert.Equal((HttpStatusCode.NotFound, "model_not_found"), (missing, error.GetProperty("error").GetProperty("code").GetString()));
    }

    [Fact]
    public async Task A_wrong_method_is_a_405_error_object()
    {
        (HttpStatusCode status, JsonElement body) = await HttpTestClient.GetAsync(server.Client, "/v1/chat/completions");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, status);
        Assert.Equal("method_not_allowed", body.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task An_unknown_path_is_a_404_error_object()
    {
        (HttpStatusCode status, JsonElement body) = await HttpTestClient.GetAsync(server.Client, "/v1/embeddings");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("unknown_url", body.GetProperty("error").GetProperty("code").GetString());
    }
}
