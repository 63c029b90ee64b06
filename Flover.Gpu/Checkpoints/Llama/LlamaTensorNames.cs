using Flover.Gpu.Models.Llama;

namespace Flover.Gpu.Checkpoints.Llama;

/// <summary>
/// The tensor names of a Hugging Face <c>LlamaForCausalLM</c> checkpoint, which Flover uses as they
/// are, and the shape each must have for a <see cref="LlamaConfig"/>.
/// </summary>
public static class LlamaTensorNames
{
    /// <summary>The token embedding, [vocabulary, hidden].</summary>
    public const string TokenEmbedding = "model.embed_tokens.weight";

    /// <summary>The final RMS norm's gain, [hidden].</summary>
    public const string FinalNorm = "model.norm.weight";

    /// <summary>The LM head, [vocabulary, hidden]; absent when tied to the token embedding.</summary>
    public const string LmHead = "lm_head.weight";

    /// <summary>The name of a tensor of decoder layer <paramref name="layer"/>, e.g. <c>self_attn.q_proj.weight</c>.</summary>
    public static string Layer(int layer, string suffix) => $"model.layers.{layer}.{suffix}";

    /// <summary>Every tensor <paramref name="config"/> requires, with its shape, the LM head included unless tied.</summary>
    public static IEnumerable<(string Name, long[] Shape)> Required(LlamaConfig config)
    {
        long e = config.HiddenSize;
        long q = (long)config.HeadCount * config.HeadSize;
        long kv = (long)config.KvHeadCount * config.HeadSize;
        long i = config.IntermediateSize;
        yield return (TokenEmbedding, [config.VocabularySize, e]);
        for (int layer = 0; layer < config.LayerCount; layer++)
        {
            yield return (Layer(layer, "input_layernorm.weight"), [e]);
            yield return (Layer(layer, "post_attention_layernorm.weight"), [e]);
            foreach ((string name, long rows, long columns) in Projections(q, kv, e, i))
            {
                yield return (Layer(layer, $"{name}.weight"), [rows, columns]);
                bool biased = name.StartsWith("mlp.", StringComparison.Ordinal) ? config.MlpBias : config.AttentionBias;
                if (biased)
                {
                    yield return (Layer(layer, $"{name}.bias"), [rows]);
                }
            }
        }

        yield return (FinalNorm, [e]);
        if (!config.TieWordEmbeddings)
        {
            yield return (LmHead, [config.VocabularySize, e]);
        }
    }

    /// <summary>Each linear layer of a decoder layer: name, output size, input size (nn.Linear stores [out, in]).</summary>
    private static IEnumerable<(string Name, long Rows, long Columns)> Projections(long q, long kv, long e, long i)
    {
        yield return ("self_attn.q_proj", q, e);
        yield return ("self_attn.k_proj", kv, e);
        yield return ("self_attn.v_proj", kv, e);
        yield return ("self_attn.o_proj", e, q);
        yield return ("mlp.gate_proj", i, e);
        yield return ("mlp.up_proj", i, e);
        yield return ("mlp.down_proj", e, i);
    }
}
