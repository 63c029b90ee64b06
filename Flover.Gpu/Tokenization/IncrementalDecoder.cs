using System.Buffers;
using System.Text;

namespace Flover.Gpu.Tokenization;

/// <summary>
/// Turns a stream of token ids into text as it arrives, for streaming responses. A GPT-2 token
/// can end in the middle of a UTF-8 character (an emoji is often two or three tokens), so the
/// bytes of an incomplete character are held back until the tokens that complete it arrive.
/// </summary>
/// <remarks>
/// The concatenation of everything <see cref="Append(int)"/> and <see cref="Flush"/> return equals
/// <see cref="Gpt2Tokenizer.Decode"/> of all the ids: invalid byte sequences become U+FFFD exactly
/// as in one-shot decoding. One instance follows one stream and is not thread-safe.
/// </remarks>
public sealed class IncrementalDecoder : IIncrementalDecoder
{
    private readonly Gpt2Tokenizer _tokenizer;

    /// <summary>Keeps the bytes of an incomplete character between calls; replaces invalid bytes with U+FFFD.</summary>
    private readonly Decoder _utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();

    internal IncrementalDecoder(Gpt2Tokenizer tokenizer) => _tokenizer = tokenizer;

    /// <summary>Adds one token and returns the text it completes (empty while a character is incomplete).</summary>
    /// <exception cref="FloverException"><paramref name="id"/> is not in the vocabulary.</exception>
    public string Append(int id) => Decode(_tokenizer.TokenBytes(id), flush: false);

    /// <summary>Adds several tokens and returns the text they complete.</summary>
    /// <exception cref="FloverException">An id is not in the vocabulary (no token is added then).</exception>
    public string Append(ReadOnlySpan<int> ids) => Decode(_tokenizer.DecodeToUtf8(ids), flush: false);

    /// <summary>
    /// Ends the stream: returns U+FFFD for a character whose bytes never completed (or an empty
    /// string) and resets the decoder for a new stream.
    /// </summary>
    public string Flush() => Decode([], flush: true);

    private string Decode(ReadOnlySpan<byte> bytes, bool flush)
    {
        int count = _utf8.GetCharCount(bytes, flush);
        char[]? rented = null;
        Span<char> chars = count <= 256 ? stackalloc char[256] : (rented = ArrayPool<char>.Shared.Rent(count));
        try
        {
            // GetChars also keeps the bytes of an unfinished character inside the decoder, or,
            // on flush, turns them into U+FFFD and resets it.
            int written = _utf8.GetChars(bytes, chars, flush);
            return written == 0 ? string.Empty : new string(chars[..written]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }
}
