using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Models;

/// <summary>
/// The three places where a tensor-parallel shard of either model family meets the others:
/// the vocabulary-parallel embedding lookup, the row-parallel projection that ends the attention
/// and MLP blocks, and the vocabulary-parallel LM head. Collectives run in rank order, so every
/// rank gets the same bits; the whole model (no shard) runs the plain kernels.
/// </summary>
internal static class ShardedLayers
{
    /// <summary>
    /// A shard's rows of the token table (<paramref name="table"/>, vocabulary rows from
    /// <paramref name="firstToken"/>) looked up for <paramref name="rows"/> tokens: each shard writes the
    /// vectors of the tokens in its slice and zeros elsewhere, so the sum over shards is exactly each
    /// token's vector, and the table is held once over all shards.
    /// </summary>
    public static void EmbedVocabularyParallel(Accelerator accelerator, TensorShard shard, ArrayView<int> tokens, int rows, DeviceMatrix table, int firstToken, ArrayView<float> output, int width)
    {
        ArrayView<float> embedded = output.SubView(0, (long)rows * width);
        accelerator.EmbedVocabularySlice(tokens, rows, table, firstToken, embedded);
        // The collective reads host-visible memory: the lookup must be complete first.
        accelerator.Synchronize();
        shard.Communicator.AllReduceSum(embedded);
    }

    /// <summary>
    /// The LM head over <paramref name="rows"/> normalised rows. Whole model: one matmul into
    /// <paramref name="logits"/>. A shard scores its own vocabulary rows into <paramref name="localLogits"/>,
    /// then the slices are gathered (<paramref name="vocabularyOffsets"/>: each rank's first row, then
    /// the vocabulary size) into full rows on every rank.
    /// </summary>
    public static void Head(Accelerator accelerator, TensorShard? shard, ArrayView<float> input, int rows, DeviceMatrix head, ArrayView<float> localLogits, ArrayView<float> logits, int[] vocabularyOffsets, int vocabulary)
    {
        if (shard is null)
        {
            accelerator.MatMul(input, rows, head, default, logits, KernelActivation.None, accumulate: false);
            return;
        }

        accelerator.MatMul(input, rows, head, default, localLogits, KernelActivation.None, accumulate: false);
        accelerator.Synchronize();
        shard.Communicator.AllGatherColumns(localLogits, rows, vocabularyOffsets, logits, vocabulary);
    }

    /// <summary>
    /// The row-parallel projection both families end their attention and MLP blocks with:
    /// <c>residual += input · weights + bias</c>. The whole model runs one fused matmul. A shard
    /// holds only some input rows of the weights, so it computes a partial product, the partials are
    /// summed in rank order (all-reduce), and then the bias and the residual are added once, in the
    /// same order as the fused epilogue: <c>residual + (sum + bias)</c>.
    /// </summary>
    /// <param name="accelerator">Where the model runs.</param>
    /// <param name="shard">The shard, or null for the whole model.</param>
    /// <param name="input">The rows to project.</param>
    /// <param name="rows">How many.</param>
    /// <param name="weights">This shard's input rows of the projection.</param>
    /// <param name="bias">The whole bias; for a shard it must be valid (a zero vector when the model has none).</param>
    /// <param name="partial">Scratch of at least rows × width for the partial product.</param>
    /// <param name="residual">The residual stream the result is added to.</param>
    /// <param name="width">The projection's output width.</param>
    public static void Project(Accelerator accelerator, TensorShard? shard, ArrayView<float> input, int rows, DeviceMatrix weights, ArrayView<float> bias, ArrayView<float> partial, ArrayView<float> residual, int width)
    {
        if (shard is null)
        {
            accelerator.MatMul(input, rows, weights, bias, residual, KernelActivation.None, accumulate: true);
            return;
        }

        ArrayView<float> part = partial.SubView(0, (long)rows * width);
        accelerator.MatMul(input, rows, weights, default, part, KernelActivation.None, accumulate: false);
        // The collective reads host-visible memory: the product must be complete first.
        accelerator.Synchronize();
        shard.Communicator.AllReduceSum(part);
        accelerator.AddBiasAndResidual(part, rows, width, bias, residual);
    }
}
