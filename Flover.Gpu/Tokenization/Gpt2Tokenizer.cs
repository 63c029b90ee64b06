using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;

namespace Flover.Gpu.Tokenization;

/// <summary>
/// GPT-2's byte-level BPE tokenizer: text to token ids and back, id for id with OpenAI's encoder.
/// Immutable and safe to share between threads.
/// </summary>
/// <remarks>
/// <para>Encoding splits text with GPT-2's pre-tokenization pattern, writes each piece as UTF-8
/// bytes, maps every byte to its one-byte token and applies the merges by rank. Decoding
/// concatenates the tokens' bytes and reads them as UTF-8, so <c>Decode(Encode(text)) == text</c>
/// for every well-formed string.</para>
/// <para>A .NET string may hold a lone (unpaired) surrogate, which UTF-8 cannot represent. It is
/// encoded as U+FFFD (the bytes <c>EF BF BD</c>), as <see cref="Encoding.UTF8"/>, JavaScript's
/// <c>TextEncoder</c> and therefore OpenAI's JavaScript encoder do, so the ids still agree with
/// that encoder and decode to valid text; such a string comes back with U+FFFD in place of each
/// lone surrogate. (WTF-8 would keep the surrogate, but its bytes are invalid UTF-8 that no
/// other GPT-2 tokenizer produces, and decoders would turn them into three U+FFFD anyway.)</para>
/// <para>Special tokens such as <c>&lt;|endoftext|&gt;</c> enter a sequence as ids. Text that spells
/// one is encoded as ordinary characters unless the caller passes <c>allowSpecialTokens</c>, so
/// a prompt cannot inject a document boundary.</para>
/// </remarks>
public sealed partial class Gpt2Tokenizer
{
    /// <summary>Pieces up to this many bytes are encoded in stack buffers.</summary>
    private const int StackBufferBytes = 256;

    /// <summary>Each token's bytes, indexed by id; null where the vocabulary has a gap.</summary>
    private readonly byte[]?[] _tokenBytes;

    /// <summary>The id of the one-byte token for each byte value.</summary>
    private readonly int[] _byteTokenIds;

    /// <summary>Special tokens, longest first, for <c>allowSpecialTokens</c> matching.</summary>
    private readonly KeyValuePair<string, int>[] _specialTokens;

    private readonly BytePairMerger _merger;
    private readonly BpeWordCache _cache = new(capacity: 1 << 16);

    /// <summary>The number of token ids (one more than the highest id), 50257 for GPT-2.</summary>
    public int VocabularySize => _tokenBytes.Length;

    /// <summary>The id of <c>&lt;|endoftext|&gt;</c> (50256 for GPT-2): end of text, and the separator between documents.</summary>
    public int EndOfTextId { get; }

    /// <summary>The special tokens (content to id), which text produces only with <c>allowSpecialTokens</c>.</summary>
    public IReadOnlyDictionary<string, int> SpecialTokens { get; }

    /// <summary>Where the tokenizer was loaded from, for messages (a folder, a file or "embedded GPT-2").</summary>
    public string Source { get; }

    /// <summary>Encodes <paramref name="text"/> to token ids.</summary>
    /// <param name="text">Any string; lone surrogates are encoded as U+FFFD.</param>
    /// <param name="allowSpecialTokens">When true, text spelling a special token (such as <c>&lt;|endoftext|&gt;</c>)
    /// becomes that token's id; when false (the default) it is encoded as ordinary characters.</param>
    public int[] Encode(string text, bool allowSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>((text.Length / 4) + 1);
        Encode(text, ids, allowSpecialTokens);
        return [.. ids];
    }

    /// <summary>Encodes <paramref name="text"/>, appending its ids to <paramref name="ids"/>.</summary>
    /// <param name="text">Any text; lone surrogates are encoded as U+FFFD.</param>
    /// <param name="ids">Receives the ids.</param>
    /// <param name="allowSpecialTokens">When true, text spelling a special token becomes its id.</param>
    public void Encode(ReadOnlySpan<char> text, List<int> ids, bool allowSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        while (allowSpecialTokens && !text.IsEmpty)
        {
            (int index, KeyValuePair<string, int> special) = FindFirstSpecialToken(text);
            if (index < 0)
            {
                break;
            }

            EncodeOrdinary(text[..index], ids);
            ids.Add(special.Value);
            text = text[(index + special.Key.Length)..];
        }

        EncodeOrdinary(text, ids);
    }

    /// <summary>Decodes <paramref name="ids"/> to text; byte sequences that are not valid UTF-8 become U+FFFD.</summary>
    /// <exception cref="FloverException">An id is not in the vocabulary.</exception>
    public string Decode(ReadOnlySpan<int> ids)
    {
        byte[] bytes = DecodeToUtf8(ids);
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>The bytes <paramref name="ids"/> stand for (which need not be complete UTF-8).</summary>
    /// <exception cref="FloverException">An id is not in the vocabulary.</exception>
    public byte[] DecodeToUtf8(ReadOnlySpan<int> ids)
    {
        int length = 0;
        foreach (int id in ids)
        {
            length += TokenBytes(id).Length;
        }

        byte[] bytes = new byte[length];
        int offset = 0;
        foreach (int id in ids)
        {
            ReadOnlySpan<byte> token = TokenBytes(id);
            token.CopyTo(bytes.AsSpan(offset));
            offset += token.Length;
        }

        return bytes;
    }

    /// <summary>Creates a decoder that turns a stream of ids into text as soon as its characters are complete.</summary>
    public IncrementalDecoder CreateIncrementalDecoder() => new(this);

    /// <summary>The bytes of token <paramref name="id"/>.</summary>
    /// <exception cref="FloverException"><paramref name="id"/> is not in the vocabulary.</exception>
    internal ReadOnlySpan<byte> TokenBytes(int id)
    {
        if ((uint)id >= (uint)_tokenBytes.Length || _tokenBytes[id] is not byte[] bytes)
        {
            throw new FloverException($"Token id {id} is not in the vocabulary of {Source} (ids 0 to {_tokenBytes.Length - 1}).");
        }

        return bytes;
    }

    /// <summary>The merge rules (for tests).</summary>
    internal BytePairMerger Merger => _merger;

    /// <summary>The id of the one-byte token for <paramref name="value"/>.</summary>
    internal int ByteTokenId(byte value) => _byteTokenIds[value];

    /// <summary>The number of words in the BPE cache (for tests and diagnostics).</summary>
    internal int CachedWordCount => _cache.Count;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void EncodeOrdinary(ReadOnlySpan<char> text, List<int> ids)
    {
        int position = 0;
        while (position < text.Length)
        {
            int length = Gpt2PreTokenizer.PieceLength(text, position);
            EncodePiece(text.Slice(position, length), ids);
            position += length;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void EncodePiece(ReadOnlySpan<char> piece, List<int> ids)
    {
        if (piece.Length <= BpeWordCache.MaxPieceLength && _cache.TryGet(piece, out int[] cached))
        {
            ids.AddRange(cached);
            return;
        }

        int maxBytes = Encoding.UTF8.GetMaxByteCount(piece.Length);
        byte[]? rentedBytes = null;
        int[]? rentedSymbols = null;
        try
        {
            Span<byte> bytes = maxBytes <= StackBufferBytes ? stackalloc byte[StackBufferBytes] : (rentedBytes = ArrayPool<byte>.Shared.Rent(maxBytes));
            // Encoding.UTF8 replaces a lone surrogate with EF BF BD (see the class remarks).
            int byteCount = Encoding.UTF8.GetBytes(piece, bytes);
            Span<int> symbols = byteCount <= StackBufferBytes ? stackalloc int[StackBufferBytes] : (rentedSymbols = ArrayPool<int>.Shared.Rent(byteCount));
            for (int i = 0; i < byteCount; i++)
            {
                symbols[i] = _byteTokenIds[bytes[i]];
            }

            int count = _merger.Merge(symbols[..byteCount]);
            ReadOnlySpan<int> merged = symbols[..count];
            ids.AddRange(merged);
            if (piece.Length <= BpeWordCache.MaxPieceLength)
            {
                _cache.Add(piece, merged.ToArray());
            }
        }
        finally
        {
            if (rentedBytes is not null)
            {
                ArrayPool<byte>.Shared.Return(rentedBytes);
            }

            if (rentedSymbols is not null)
            {
                ArrayPool<int>.Shared.Return(rentedSymbols);
            }
        }
    }

    private (int Index, KeyValuePair<string, int> Token) FindFirstSpecialToken(ReadOnlySpan<char> text)
    {
        int bestIndex = -1;
        KeyValuePair<string, int> best = default;
        // Longest first, so at equal positions the longer token wins.
        foreach (KeyValuePair<string, int> special in _specialTokens)
        {
            int index = text.IndexOf(special.Key, StringComparison.Ordinal);
            if (index >= 0 && (bestIndex < 0 || index < bestIndex))
            {
                bestIndex = index;
                best = special;
            }
        }

        return (bestIndex, best);
    }
}
