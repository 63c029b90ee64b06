using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Models;

/// <summary>
/// The row-parallel projection both model families end their attention and MLP blocks with:
/// <c>residual += input · weights + bias</c>. The whole model runs one fused matmul. A shard holds
/// only some input rows of the weights, so it computes a partial product, the partials are summed
/// in rank order (all-reduce: every rank gets the same bits), and then the bias and the residual
/// are added once, in the same order as the fused epilogue: <c>residual + (sum + bias)</c>.
/// </summary>
internal static class ShardedProjection
{
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
