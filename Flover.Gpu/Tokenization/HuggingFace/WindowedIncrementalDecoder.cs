namespace Flover.Gpu.Tokenization.HuggingFace;

/// <summary>
/// Streams text from a <see cref="HuggingFaceTokenizer"/>, which decodes ids to text only (no
/// bytes per token). It decodes a short window twice, with and without the newest ids, and emits
/// the difference once it does not end in U+FFFD (an incomplete character), as Hugging Face's
/// text-generation-inference does. The window keeps the token before the new ones, so decoders
/// that treat the first token specially (SentencePiece's strip of the leading space) see it as
/// in the middle of the text.
/// </summary>
internal sealed class WindowedIncrementalDecoder(HuggingFaceTokenizer tokenizer) : IIncrementalDecoder
{
    private readonly List<int> _ids = [];

    /// <summary>Where the window starts: the ids before it no longer change what follows.</summary>
    private int _prefixOffset;

    /// <summary>The ids before this have been turned into text and returned.</summary>
    private int _readOffset;

    /// <inheritdoc/>
    public string Append(int id)
    {
        tokenizer.CheckId(id); // Fails here, before the id joins the stream, if it is not in the vocabulary.
        _ids.Add(id);
        string delta = Pending();
        if (delta.Length == 0 || delta[^1] == '\uFFFD')
        {
            return string.Empty;
        }

        _prefixOffset = _readOffset;
        _readOffset = _ids.Count;
        return delta;
    }

    /// <inheritdoc/>
    public string Flush()
    {
        string delta = Pending();
        _ids.Clear();
        _prefixOffset = 0;
        _readOffset = 0;
        return delta;
    }

    private string Pending()
    {
        if (_readOffset == _ids.Count)
        {
            return string.Empty;
        }

        Span<int> ids = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_ids);
        string before = tokenizer.Decode(ids[_prefixOffset.._readOffset]);
        string after = tokenizer.Decode(ids[_prefixOffset..]);
        return after.Length > before.Length && after.StartsWith(before, StringComparison.Ordinal) ? after[before.Length..] : string.Empty;
    }
}
