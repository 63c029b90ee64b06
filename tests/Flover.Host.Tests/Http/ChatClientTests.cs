using System.Net;
using System.Text.Json;
using Flover.Actors.Inference;
using Flover.Host.Embedding;
using Microsoft.Extensions.AI;

namespace Flover.Host.Tests.Http;

/// <summary>The IChatClient over the in-process engine: the same answers as the HTTP chat endpoint, streamed, cancellable.</summary>
[Collection(TinyServerCollection.Name)]
public sealed class ChatClientTests(TinyServerFixture server)
{
    private static readonly ChatMessage[] s_messages = [new(ChatRole.System, "Be brief."), new(ChatRole.User, "Hi")];

    [Fact]
    public async Task Streamed_updates_join_to_the_text_the_http_chat_endpoint_gives_for_the_same_seed()
    {
        using var client = new FloverChatClient(server.Admission, server.Engine.Model);
        var options = new ChatOptions { MaxOutputTokens = 12, Seed = 7, AdditionalProperties = new() { [FloverChatClient.IgnoreEosProperty] = true } };

        List<ChatResponseUpdate> updates = [];
        await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(s_messages, options))
        {
            updates.Add(update);
        }

        (HttpStatusCode status, JsonElement body) = await HttpTestClient.PostAsync(server.Client, "/v1/chat/completions", """{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"max_tokens":12,"seed":7,"ignore_eos":true}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(updates.Count > 1);
        Assert.Equal(body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(ChatFinishReason.Length, updates[^1].FinishReason);
        Assert.All(updates, u => Assert.Equal(ChatRole.Assistant, u.Role));
        UsageDetails usage = updates[^1].Contents.OfType<UsageContent>().Single().Details;
        Assert.Equal((body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), 12L), (usage.InputTokenCount!.Value, usage.OutputTokenCount!.Value));
    }

    [Fact]
    public async Task A_whole_response_has_the_assistant_message_finish_reason_and_usage()
    {
        using var client = new FloverChatClient(server.Admission, server.Engine.Model);

        ChatResponse response = await client.GetResponseAsync(s_messages, new ChatOptions { MaxOutputTokens = 5, Temperature = 0, AdditionalProperties = new() { [FloverChatClient.IgnoreEosProperty] = true } });

        Assert.Equal(ChatRole.Assistant, response.Messages.Single().Role);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(5, response.Usage!.OutputTokenCount);
        Assert.Equal("tiny", response.ModelId);
    }

    [Fact]
    public async Task Cancelling_mid_stream_throws_and_the_engine_lets_the_request_go()
    {
        using var client = new FloverChatClient(server.Admission, server.Engine.Model);
        using var cancel = new CancellationTokenSource();
        var options = new ChatOptions { MaxOutputTokens = 200, AdditionalProperties = new() { [FloverChatClient.IgnoreEosProperty] = true } };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(s_messages, options, cancel.Token))
            {
                await cancel.CancelAsync();
            }
        });

        EngineStatus? status = null;
        for (int probe = 0; probe < 10_000 && status is not { Running: 0, Waiting: 0 }; probe++)
        {
            status = await server.Admission.ProbeAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        }

        Assert.Equal((0, 0), (status!.Running, status.Waiting));
    }

    [Fact]
    public async Task Metadata_names_the_provider_and_the_model_and_bad_input_is_an_argument_error()
    {
        using var client = new FloverChatClient(server.Admission, server.Engine.Model);

        var metadata = (ChatClientMetadata)client.GetService(typeof(ChatClientMetadata))!;

        Assert.Equal(("flover", "tiny"), (metadata.ProviderName, metadata.DefaultModelId));
        Assert.Same(client, client.GetService(typeof(IChatClient)));
        await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync([new(ChatRole.Tool, "x")]));
    }

    [Fact]
    public async Task A_client_started_on_a_preset_owns_its_engine()
    {
        await using FloverChatClient client = FloverChatClient.Start(preset: "tiny", settings: ["flover.engine.threads = 1", "flover.engine.kv-slots = 2"]);

        ChatResponse response = await client.GetResponseAsync("Hello", new ChatOptions { MaxOutputTokens = 3, AdditionalProperties = new() { [FloverChatClient.IgnoreEosProperty] = true } });

        Assert.Equal((3L, "tiny"), (response.Usage!.OutputTokenCount!.Value, client.ModelId));
    }
}
