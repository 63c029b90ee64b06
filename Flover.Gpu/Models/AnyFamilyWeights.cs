using Flover.Gpu.Checkpoints;
using Flover.Gpu.Checkpoints.Llama;

namespace Flover.Gpu.Models;

/// <summary>
/// The weights of a model of either family, as the measuring tools take them (<c>bench-decode</c>):
/// the shape they need to plan a run, and the family's own weights to load. Exactly one of
/// <see cref="Gpt2"/> and <see cref="Llama"/> is set; disposing this disposes it.
/// </summary>
public sealed class AnyFamilyWeights : IDisposable
{
    private AnyFamilyWeights(IModelWeights? gpt2, LlamaWeights? llama)
    {
        Gpt2 = gpt2;
        Llama = llama;
    }

    /// <summary>GPT-2's weights, or null for a LLaMA model.</summary>
    public IModelWeights? Gpt2 { get; }

    /// <summary>LLaMA's weights, or null for a GPT-2 model.</summary>
    public LlamaWeights? Llama { get; }

    /// <summary>Which family the weights are of.</summary>
    public ModelFamily Family => Llama is null ? ModelFamily.Gpt2 : ModelFamily.Llama;

    /// <summary>Where the weights come from, as messages name it.</summary>
    public string Source => Gpt2?.Source ?? Llama!.Source;

    /// <summary>The logits width.</summary>
    public int VocabularySize => Gpt2?.Config.VocabularySize ?? Llama!.Config.VocabularySize;

    /// <summary>Positions a sequence may hold.</summary>
    public int MaxPositions => Gpt2?.Config.MaxPositions ?? Llama!.Config.MaxPositions;

    /// <summary>The end-of-sequence id (a LLaMA config may name none; its first when it names several).</summary>
    public int? EosTokenId => Gpt2?.Config.EosTokenId ?? Llama!.Config.EosTokenId;

    /// <summary>Wraps GPT-2 weights.</summary>
    public static AnyFamilyWeights Of(IModelWeights weights) => new(weights ?? throw new ArgumentNullException(nameof(weights)), null);

    /// <summary>Wraps LLaMA weights.</summary>
    public static AnyFamilyWeights Of(LlamaWeights weights) => new(null, weights ?? throw new ArgumentNullException(nameof(weights)));

    /// <summary>Frees the family's weights.</summary>
    public void Dispose()
    {
        Gpt2?.Dispose();
        Llama?.Dispose();
    }
}
