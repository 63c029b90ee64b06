namespace Flover.Gpu.Checkpoints;

/// <summary>
/// Canonical GPT-2 tensor names: Hugging Face's names without the <c>transformer.</c> prefix.
/// Conv1D weights (<c>c_attn</c>, <c>c_proj</c>, <c>c_fc</c>) are stored [in, out], as Hugging Face
/// stores them; <see cref="LmHead"/> is [vocab, embd] and is <see cref="TokenEmbedding"/> when tied.
/// </summary>
public static class Gpt2TensorNames
{
    /// <summary>Token embedding [vocab, embd].</summary>
    public const string TokenEmbedding = "wte.weight";

    /// <summary>Position embedding [positions, embd].</summary>
    public const string PositionEmbedding = "wpe.weight";

    /// <summary>Final layer norm gain [embd].</summary>
    public const string FinalNormWeight = "ln_f.weight";

    /// <summary>Final layer norm bias [embd].</summary>
    public const string FinalNormBias = "ln_f.bias";

    /// <summary>Output projection [vocab, embd]; tied to the token embedding unless the checkpoint has its own.</summary>
    public const string LmHead = "lm_head.weight";

    /// <summary>First layer norm gain of block <paramref name="layer"/> [embd].</summary>
    public static string Norm1Weight(int layer) => $"h.{layer}.ln_1.weight";

    /// <summary>First layer norm bias of block <paramref name="layer"/> [embd].</summary>
    public static string Norm1Bias(int layer) => $"h.{layer}.ln_1.bias";

    /// <summary>Fused QKV projection of block <paramref name="layer"/> [embd, 3·embd].</summary>
    public static string AttentionQkvWeight(int layer) => $"h.{layer}.attn.c_attn.weight";

    /// <summary>Fused QKV bias of block <paramref name="layer"/> [3·embd].</summary>
    public static string AttentionQkvBias(int layer) => $"h.{layer}.attn.c_attn.bias";

    /// <summary>Attention output projection of block <paramref name="layer"/> [embd, embd].</summary>
    public static string AttentionOutWeight(int layer) => $"h.{layer}.attn.c_proj.weight";

    /// <summary>Attention output bias of block <paramref name="layer"/> [embd].</summary>
    public static string AttentionOutBias(int layer) => $"h.{layer}.attn.c_proj.bias";

    /// <summary>Second layer norm gain of block <paramref name="layer"/> [embd].</summary>
    public static string Norm2Weight(int layer) => $"h.{layer}.ln_2.weight";

    /// <summary>Second layer norm bias of block <paramref name="layer"/> [embd].</summary>
    public static string Norm2Bias(int layer) => $"h.{layer}.ln_2.bias";

    /// <summary>MLP up projection of block <paramref name="layer"/> [embd, inner].</summary>
    public static string MlpUpWeight(int layer) => $"h.{layer}.mlp.c_fc.weight";

    /// <summary>MLP up bias of block <paramref name="layer"/> [inner].</summary>
    public static string MlpUpBias(int layer) => $"h.{layer}.mlp.c_fc.bias";

    /// <summary>MLP down projection of block <paramref name="layer"/> [inner, embd].</summary>
    public static string MlpDownWeight(int layer) => $"h.{layer}.mlp.c_proj.weight";

    /// <summary>MLP down bias of block <paramref name="layer"/> [embd].</summary>
    public static string MlpDownBias(int layer) => $"h.{layer}.mlp.c_proj.bias";
}
