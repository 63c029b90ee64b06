namespace Flover.Gpu.Tokenization;

/// <summary>
/// Turns a stream of generated ids into text as it arrives, holding back what a later token may
/// still change (the bytes of an incomplete character). What <see cref="Append"/> and
/// <see cref="Flush"/> return, joined, equals <see cref="ITokenizer.Decode"/> of all the ids.
/// One instance follows one stream and is not thread-safe.
/// </summary>
public interface IIncrementalDecoder
{
    /// <summary>Adds one token and returns the text it completes (possibly empty).</summary>
    /// <exception cref="FloverException"><paramref name="id"/> is not in the vocabulary.</exception>
    string Append(int id);

    /// <summary>Ends the stream, returns what was held back and resets the decoder for a new stream.</summary>
    string Flush();
}
