namespace Flover.Gpu.Tokenization;

/// <summary>
/// What a tokenizer's files say, before it is checked and compiled: the vocabulary, the merges in
/// rank order and the special tokens, with the names of the files they came from for messages.
/// </summary>
/// <param name="Vocabulary">Token string (in the byte-level alphabet) to id.</param>
/// <param name="Merges">Merge rules, lowest rank first, with the 1-based line (or index) they came from.</param>
/// <param name="SpecialTokens">Special token content to id (never produced from text by default).</param>
/// <param name="VocabularySource">The file the vocabulary came from.</param>
/// <param name="MergesSource">The file the merges came from.</param>
internal sealed record TokenizerDefinition(
    Dictionary<string, int> Vocabulary,
    List<MergeEntry> Merges,
    Dictionary<string, int> SpecialTokens,
    string VocabularySource,
    string MergesSource);

/// <summary>One merge rule as written in a file.</summary>
/// <param name="Left">The left token.</param>
/// <param name="Right">The right token.</param>
/// <param name="Location">Where it was written, e.g. "line 7" or "model.merges[5]".</param>
internal readonly record struct MergeEntry(string Left, string Right, string Location);
