using System.Runtime.CompilerServices;
using Flover.Actors.Inference;
using Flover.Configuration;
using Flover.Gpu;
using Flover.Gpu.Models;
using Flover.Gpu.Sampling;
using Flover.Host.Http;
using Microsoft.Extensions.AI;

namespace Flover.Host.Embedding;

/// <summary>
/// An <see cref="IChatClient"/> (Microsoft.Extensions.AI) over the in-process Flover engine, so a
/// .NET application generates without HTTP: the same fused engine, chat template and admission
/// point as <c>flover serve</c>. Streaming yields one update per token that adds text, then an
/// update with the finish reason and the usage. docs/OPERATIONS.md has a sample.
/// </summary>
public sealed partial class FloverChatClient : IChatClient, IAsyncDisposable
{
    private readonly EngineClient _engine;
    private readonly ServedModel _model;
    private readonly EngineHost? _owned;

    internal FloverChatClient(EngineClient engine, ServedModel model, EngineHost? owned = null)
    {
        _engine = engine;
        _model = model;
        _owned = owned;
    }

    /// <summary>
    /// Loads a model and starts an engine that this client owns (disposing the client stops it).
    /// </summary>
    /// <param name="model">A model folder or name, as <c>--model</c>; null to use <paramref name="preset"/>.</param>
    /// <param name="preset">A preset with generated weights (<c>tiny</c>, <c>gpt2</c>, ...), used when <paramref name="model"/> is null; null means <c>gpt2</c>.</param>
    /// <param name="settings">Configuration overrides as <c>key = value</c> lines (for example <c>flover.engine.kv-slots = 8</c>), over the reference configuration and <c>FLOVER_CONFIG</c>.</param>
    /// <exception cref="FloverException">The model cannot be opened, or a setting is invalid.</exception>
    public static FloverChatClient Start(string? model = null, string? preset = null, IReadOnlyList<string>? settings = null)
    {
        Config config = FloverConfiguration.Load(new ConfigurationSources { Overrides = settings ?? [] });
        EngineHost host = EngineHost.Load(config, model, model is null ? preset ?? Gpt2Presets.Gpt2 : null, TextWriter.Null);
        try
        {
            // The engine's own actor system: starting it only creates actors, so waiting here blocks no dispatcher.
            EngineClient client = host.StartSystemAsync().GetAwaiter().GetResult();
            return new FloverChatClient(client, host.Model, host);
        }
        catch
        {
            host.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    /// <summary>The served model's name (the preset, or the model as given).</summary>
    public string ModelId => _model.Id;

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        await GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Generate request = ToGenerate(messages, options);
        string responseId = $"chatcmpl-{Guid.NewGuid():N}";
        DateTimeOffset created = DateTimeOffset.UtcNow;
        using GenerationStream stream = _engine.Start(request);
        using CancellationTokenRegistration cancel = cancellationToken.Register(stream.Cancel);
        await foreach (object message in stream.Events.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            switch (message)
            {
                case Token { TextDelta.Length: > 0 } token:
                    yield return Update(responseId, created, token.TextDelta);
                    break;
                case Rejected rejected:
                    stream.MarkFinished();
                    throw new InvalidOperationException($"The engine did not take the request: {rejected.Reason}");
                case Completed completed:
                    stream.MarkFinished();
                    cancellationToken.ThrowIfCancellationRequested();
                    if (completed.FinishReason is FinishReason.Error or FinishReason.Cancelled)
                    {
                        throw new InvalidOperationException($"The engine ended the request with {completed.FinishReason}: {completed.Error ?? "no detail"}");
                    }

                    yield return Final(responseId, created, completed);
                    yield break;
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        throw new InvalidOperationException("The engine stopped before the request finished.");
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("flover", null, _model.Id)
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <summary>Stops the engine when this client started it (<see cref="Start"/>); a client over a shared engine owns nothing.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc cref="Dispose" />
    public ValueTask DisposeAsync() => _owned?.DisposeAsync() ?? ValueTask.CompletedTask;

    private ChatResponseUpdate Update(string responseId, DateTimeOffset created, string text) =>
        new(ChatRole.Assistant, text) { ResponseId = responseId, MessageId = responseId, ModelId = _model.Id, CreatedAt = created };

    private ChatResponseUpdate Final(string responseId, DateTimeOffset created, Completed completed)
    {
        ChatResponseUpdate update = Update(responseId, created, completed.TrailingText);
        update.FinishReason = completed.FinishReason is FinishReason.Length or FinishReason.Timeout ? ChatFinishReason.Length : ChatFinishReason.Stop;
        update.Contents.Add(new UsageContent(new UsageDetails
        {
            InputTokenCount = completed.Usage.PromptTokens,
            OutputTokenCount = completed.Usage.CompletionTokens,
            TotalTokenCount = completed.Usage.TotalTokens,
        }));
        return update;
    }
}
