using Flover.Gpu.Tokenization.HuggingFace;

namespace Flover.Gpu.Tokenization;

/// <summary>Picks the tokenizer a model folder holds.</summary>
public static class TokenizerLoader
{
    /// <summary>
    /// GPT-2's vocab.json + merges.txt, where both exist, load into <see cref="Gpt2Tokenizer"/>
    /// (id for id with OpenAI's encoder, and faster than the library on GPT-2; see
    /// docs/TOKENIZER.md); otherwise a tokenizer.json loads into <see cref="HuggingFaceTokenizer"/>.
    /// </summary>
    /// <exception cref="FloverException">The folder holds neither, or a file is malformed; the message names it.</exception>
    public static ITokenizer FromFolder(string folder)
    {
        bool gpt2Files = File.Exists(Path.Combine(folder, Gpt2Tokenizer.VocabFileName)) && File.Exists(Path.Combine(folder, Gpt2Tokenizer.MergesFileName));
        return !gpt2Files && File.Exists(Path.Combine(folder, HuggingFaceTokenizer.FileName))
            ? HuggingFaceTokenizer.FromFolder(folder)
            : Gpt2Tokenizer.FromFolder(folder);
    }
}
