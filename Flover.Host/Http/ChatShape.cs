using System.Text.Json;
using Flover.Actors.Inference;
using Flover.Gpu.Sampling;

namespace Flover.Host.Http;

/// <summary>
/// <c>/v1/chat/completions</c> answers: <c>message</c> (whole) or <c>delta</c> (chunks) from the
/// assistant, and logprobs as <c>{"content":[{token, logprob, bytes, top_logprobs}]}</c>.
/// </summary>
internal sealed class ChatShape : ResponseShape
{
    public ChatShape(ServedModel model, GenerationRequest request, DateTimeOffset now)
        : base(model, request, "chatcmpl-", now)
    {
    }

    protected override string ObjectName => "chat.completion";

    protected override string ChunkObjectName => "chat.completion.chunk";

    /// <summary>OpenAI's first chunk: the role, empty content.</summary>
    public override byte[]? OpeningChunk() => Chunk(string.Empty, [], opening: true);

    protected override void WriteContent(Utf8JsonWriter json, string text, IReadOnlyList<Token> tokens, bool streaming, bool opening)
    {
        json.WriteStartObject(streaming ? "delta" : "message");
        if (!streaming || opening)
        {
            json.WriteString("role", "assistant");
        }

        if (!streaming || opening || text.Length > 0)
        {
            json.WriteString("content", text);
        }

        json.WriteEndObject();
        if (!Request.WantsLogprobs || (streaming && tokens.Count == 0))
        {
            json.WriteNull("logprobs");
            return;
        }

        json.WriteStartObject("logprobs");
        json.WriteStartArray("content");
        foreach (Token token in tokens)
        {
            json.WriteStartObject();
            WriteToken(json, token.TokenId, token.Logprob ?? 0);
            json.WriteStartArray("top_logprobs");
            foreach (TokenLogprob top in token.TopLogprobs ?? [])
            {
                json.WriteStartObject();
                WriteToken(json, top.TokenId, top.Logprob);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private void WriteToken(Utf8JsonWriter json, int id, float logprob)
    {
        json.WriteString("token", Model.Tokenizer.Decode([id]));
        json.WriteNumber("logprob", logprob);
        // The token's own bytes: a token may hold part of a character, which its text cannot show.
        json.WriteStartArray("bytes");
        foreach (byte b in Model.Tokenizer.DecodeToUtf8([id]))
        {
            json.WriteNumberValue(b);
        }

        json.WriteEndArray();
    }
}
