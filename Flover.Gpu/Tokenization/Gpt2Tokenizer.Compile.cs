using System.Text;

namespace Flover.Gpu.Tokenization;

public sealed partial class Gpt2Tokenizer
{
    /// <summary>Checks <paramref name="definition"/> and builds the lookup tables.</summary>
    /// <exception cref="FloverException">The definition is not a usable byte-level BPE tokenizer.</exception>
    internal Gpt2Tokenizer(TokenizerDefinition definition, string source)
    {
        Source = source;
        _tokenBytes = BuildTokenBytes(definition);
        _byteTokenIds = BuildByteTokenIds(definition);
        _merger = new BytePairMerger(new MergeTable(BuildMergeRules(definition)));
        SpecialTokens = new Dictionary<string, int>(definition.SpecialTokens, StringComparer.Ordinal);
        _specialTokens = [.. definition.SpecialTokens.OrderByDescending(pair => pair.Key.Length).ThenBy(pair => pair.Key, StringComparer.Ordinal)];
        EndOfTextId = definition.SpecialTokens.TryGetValue(TokenizerFileReader.EndOfText, out int endOfText)
            ? endOfText
            : throw new FloverException($"{definition.VocabularySource}: has no '{TokenizerFileReader.EndOfText}' token, which GPT-2 models need as end of text.");
    }

    private static byte[]?[] BuildTokenBytes(TokenizerDefinition definition)
    {
        int size = Math.Max(definition.Vocabulary.Values.Max(), definition.SpecialTokens.Count == 0 ? 0 : definition.SpecialTokens.Values.Max()) + 1;
        var tokenBytes = new byte[]?[size];
        foreach ((string token, int id) in definition.Vocabulary)
        {
            tokenBytes[id] = definition.SpecialTokens.ContainsKey(token) ? Encoding.UTF8.GetBytes(token) : AlphabetBytes(token, id, definition.VocabularySource);
        }

        foreach ((string content, int id) in definition.SpecialTokens)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(content);
            if (tokenBytes[id] is byte[] existing && !existing.AsSpan().SequenceEqual(bytes))
            {
                throw new FloverException($"{definition.VocabularySource}: special token '{content}' has id {id}, which the vocabulary gives to another token.");
            }

            tokenBytes[id] = bytes;
        }

        return tokenBytes;
    }

    private static byte[] AlphabetBytes(string token, int id, string source)
    {
        var bytes = new byte[token.Length];
        for (int i = 0; i < token.Length; i++)
        {
            if (!ByteLevelAlphabet.TryGetByte(token[i], out bytes[i]))
            {
                throw new FloverException($"{source}: token '{token}' (id {id}) contains U+{(int)token[i]:X4}, which is not in GPT-2's byte-level alphabet; Flover reads byte-level BPE tokenizers only.");
            }
        }

        return bytes;
    }

    private static int[] BuildByteTokenIds(TokenizerDefinition definition)
    {
        var ids = new int[256];
        for (int b = 0; b < 256; b++)
        {
            string token = ByteLevelAlphabet.ToChar((byte)b).ToString();
            if (!definition.Vocabulary.TryGetValue(token, out ids[b]))
            {
                throw new FloverException($"{definition.VocabularySource}: has no token '{token}' for byte 0x{b:X2}, so some text could not be encoded; a byte-level BPE vocabulary has all 256.");
            }
        }

        return ids;
    }

    private static Dictionary<long, MergeRule> BuildMergeRules(TokenizerDefinition definition)
    {
        var rules = new Dictionary<long, MergeRule>(definition.Merges.Count);
        for (int rank = 0; rank < definition.Merges.Count; rank++)
        {
            MergeEntry merge = definition.Merges[rank];
            int left = MergeTokenId(definition, merge, merge.Left, "uses");
            int right = MergeTokenId(definition, merge, merge.Right, "uses");
            int result = MergeTokenId(definition, merge, merge.Left + merge.Right, "makes");
            // A repeated merge takes its last rank, as dict(zip(merges, range(...))) does in OpenAI's encoder.
            rules[MergeTable.Key(left, right)] = new MergeRule(rank, result);
        }

        return rules;
    }

    private static int MergeTokenId(TokenizerDefinition definition, MergeEntry merge, string token, string verb) =>
        definition.Vocabulary.TryGetValue(token, out int id)
            ? id
            : throw new FloverException($"{definition.MergesSource}: {merge.Location} merge '{merge.Left} {merge.Right}' {verb} '{token}', which is not in the vocabulary ({definition.VocabularySource}).");
}
