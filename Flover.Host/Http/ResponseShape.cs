using System.Security.Cryptography;
using System.Text.Json;
using Flover.Actors.Inference;
using Flover.Gpu.Sampling;

namespace Flover.Host.Http;

/// <summary>
/// How one endpoint lays out its answers: the whole response, the stream's chunks and the usage
/// chunk share the envelope (id, object, created, model) written here; the choice's content
/// (<c>text</c> or <c>message</c>/<c>delta</c>, and logprobs) is each endpoint's own.
/// </summary>
internal abstract class ResponseShape
{
    private readonly string _id;
    private readonly long _created;

    protected ResponseShape(ServedModel model, GenerationRequest request, string idPrefix, DateTimeOffset now)
    {
        Model = model;
        Request = request;
        _id = idPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        _created = now.ToUnixTimeSeconds();
    }

    /// <summary>The response's id (<c>cmpl-...</c>, <c>chatcmpl-...</c>), also the request's correlation id in the engine, so logs on every node name it.</summary>
    public string Id => _id;

    protected ServedModel Model { get; }

    protected GenerationRequest Request { get; }

    /// <summary><c>object</c> of the whole response.</summary>
    protected abstract string ObjectName { get; }

    /// <summary><c>object</c> of a stream chunk.</summary>
    protected abstract string ChunkObjectName { get; }

    /// <summary>The chunk sent before any text, if the endpoint has one (chat: the assistant's role).</summary>
    public virtual byte[]? OpeningChunk() => null;

    /// <summary>The non-streamed response: the whole text, the tokens whose logprobs are reported, how it finished.</summary>
    public byte[] Full(string text, IReadOnlyList<Token> tokens, Completed completed) => Write(json =>
    {
        WriteEnvelope(json, ObjectName);
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        WriteContent(json, text, tokens, streaming: false, opening: false);
        WriteFinish(json, completed.FinishReason);
        json.WriteEndObject();
        json.WriteEndArray();
        WriteUsage(json, completed.Usage);
    });

    /// <summary>A stream chunk carrying <paramref name="text"/> (and its tokens' logprobs), or the final one with <paramref name="finish"/>.</summary>
    /// <param name="text">The text the chunk adds.</param>
    /// <param name="tokens">The tokens whose logprobs it reports.</param>
    /// <param name="finish">The finish reason, on the final chunk.</param>
    /// <param name="opening">The stream's first chunk (chat: it names the role).</param>
    public byte[] Chunk(string text, IReadOnlyList<Token> tokens, FinishReason? finish = null, bool opening = false) => Write(json =>
    {
        WriteEnvelope(json, ChunkObjectName);
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        WriteContent(json, text, tokens, streaming: true, opening);
        if (finish is FinishReason reason)
        {
            WriteFinish(json, reason);
        }
        else
        {
            json.WriteNull("finish_reason");
        }

        json.WriteEndObject();
        json.WriteEndArray();
        if (Request.IncludeUsage)
        {
            // OpenAI: with include_usage every chunk has "usage": null except the last.
            json.WriteNull("usage");
        }
    });

    /// <summary>The stream's usage chunk (<c>stream_options.include_usage</c>): no choices, the token counts.</summary>
    public byte[] UsageChunk(Usage usage) => Write(json =>
    {
        WriteEnvelope(json, ChunkObjectName);
        json.WriteStartArray("choices");
        json.WriteEndArray();
        WriteUsage(json, usage);
    });

    /// <summary>Writes the choice's content fields and its <c>logprobs</c>.</summary>
    protected abstract void WriteContent(Utf8JsonWriter json, string text, IReadOnlyList<Token> tokens, bool streaming, bool opening);

    protected static byte[] Write(Action<Utf8JsonWriter> body) => JsonOutput.Object(body);

    private void WriteEnvelope(Utf8JsonWriter json, string objectName)
    {
        json.WriteString("id", _id);
        json.WriteString("object", objectName);
        json.WriteNumber("created", _created);
        json.WriteString("model", Model.Id);
    }

    private static void WriteFinish(Utf8JsonWriter json, FinishReason reason)
    {
        (string name, string? detail) = FinishReasons.ToOpenAi(reason);
        json.WriteString("finish_reason", name);
        if (detail is not null)
        {
            json.WriteString("flover_finish_detail", detail);
        }
    }

    private static void WriteUsage(Utf8JsonWriter json, Usage usage)
    {
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", usage.PromptTokens);
        json.WriteNumber("completion_tokens", usage.CompletionTokens);
        json.WriteNumber("total_tokens", usage.TotalTokens);
        json.WriteEndObject();
    }
}
