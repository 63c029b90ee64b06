using System.Text.Json;
using Flover.Actors.Inference;

namespace Flover.Host.Http;

/// <summary>
/// <c>/v1/completions</c> answers: <c>choices[0].text</c> and the legacy logprobs object
/// (<c>tokens</c>, <c>token_logprobs</c>, <c>top_logprobs</c>, <c>text_offset</c>).
/// </summary>
internal sealed class CompletionShape : ResponseShape
{
    // text_offset of the next reported token, across the chunks of a stream.
    private int _offset;

    public CompletionShape(ServedModel model, GenerationRequest request, DateTimeOffset now)
        : base(model, request, "cmpl-", now)
    {
        _offset = request.Echo.Length;
    }

    protected override string ObjectName => "text_completion";

    protected override string ChunkObjectName => "text_completion";

    /// <summary>With <c>echo</c>, the stream starts with the prompt's text.</summary>
    public override byte[]? OpeningChunk() => Request.Echo.Length == 0 ? null : Chunk(Request.Echo, []);

    protected override void WriteContent(Utf8JsonWriter json, string text, IReadOnlyList<Token> tokens, bool streaming, bool opening)
    {
        json.WriteString("text", streaming ? text : Request.Echo + text);
        if (!Request.WantsLogprobs)
        {
            json.WriteNull("logprobs");
            return;
        }

        json.WriteStartObject("logprobs");
        json.WriteStartArray("tokens");
        foreach (Token token in tokens)
        {
            json.WriteStringValue(Model.Tokenizer.Decode([token.TokenId]));
        }

        json.WriteEndArray();
        json.WriteStartArray("token_logprobs");
        foreach (Token token in tokens)
        {
            json.WriteNumberValue(token.Logprob ?? 0);
        }

        json.WriteEndArray();
        json.WriteStartArray("top_logprobs");
        foreach (Token token in tokens)
        {
            json.WriteStartObject();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var top in token.TopLogprobs ?? [])
            {
                // Two ids can decode to the same text (a partial character is U+FFFD): keep the likelier, first one.
                string name = Model.Tokenizer.Decode([top.TokenId]);
                if (seen.Add(name))
                {
                    json.WriteNumber(name, top.Logprob);
                }
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("text_offset");
        int offset = streaming ? _offset : Request.Echo.Length;
        foreach (Token token in tokens)
        {
            json.WriteNumberValue(offset);
            offset += Model.Tokenizer.Decode([token.TokenId]).Length;
        }

        if (streaming)
        {
            _offset = offset;
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }
}
