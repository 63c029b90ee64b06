namespace Flover.Gpu.Checkpoints;

/// <summary>
/// Maps the tensor names Hugging Face GPT-2 checkpoints use to canonical names
/// (<see cref="Gpt2TensorNames"/>): <c>GPT2LMHeadModel</c> saves <c>transformer.</c>-prefixed names,
/// <c>GPT2Model</c> (and OpenAI's original conversion) saves them bare.
/// </summary>
internal static class Gpt2CheckpointNames
{
    private const string TransformerPrefix = "transformer.";

    /// <summary>
    /// The canonical name of stored tensor <paramref name="storedName"/>, or null for the
    /// <c>attn.bias</c> / <c>attn.masked_bias</c> buffers: causal-mask constants older versions of
    /// transformers saved with the weights, which Flover recomputes and never reads.
    /// </summary>
    public static string? ToCanonical(string storedName)
    {
        string name = storedName.StartsWith(TransformerPrefix, StringComparison.Ordinal)
            ? storedName[TransformerPrefix.Length..]
            : storedName;
        return IsAttentionBuffer(name) ? null : name;
    }

    /// <summary>The block index of canonical name <c>h.N.…</c>, or null for a name outside the blocks.</summary>
    public static int? LayerOf(string canonicalName)
    {
        if (!canonicalName.StartsWith("h.", StringComparison.Ordinal))
        {
            return null;
        }

        int end = canonicalName.IndexOf('.', 2);
        return end > 2 && int.TryParse(canonicalName.AsSpan(2, end - 2), System.Globalization.NumberStyles.None, null, out int layer) ? layer : null;
    }

    private static bool IsAttentionBuffer(string name) =>
        LayerOf(name) is int layer
        && (name == $"h.{layer}.attn.bias" || name == $"h.{layer}.attn.masked_bias");
}
