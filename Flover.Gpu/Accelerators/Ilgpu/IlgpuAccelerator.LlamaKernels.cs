using Flover.Gpu.Kernels.Ilgpu;
using ILGPU;

namespace Flover.Gpu.Accelerators.Ilgpu;

/// <summary>
/// The LLaMA kernels as device launches (grouped-query attention, over an F32 or a 16-bit cache,
/// shares GPT-2's attention kernels). Each is counted in <see cref="IlgpuAccelerator.Counters"/>.
/// </summary>
public sealed partial class IlgpuAccelerator
{
    /// <inheritdoc />
    protected override void RmsNormCore(ArrayView<float> input, ArrayView<float> output, int rows, int width, ArrayView<float> gain, float epsilon)
    {
        if (rows == 0)
        {
            return;
        }

        Begin("RmsNorm");
        Launch(nameof(LlamaKernels.RmsNorm));
        _kernels.RmsNorm(new Index1D(rows), View(input), View(output), View(gain), width, epsilon);
        End();
    }

    /// <inheritdoc />
    protected override void ApplyRotaryCore(ArrayView<float> qkv, int rows, ArrayView<int> positions, int queryHeads, int kvHeads, int headSize, ArrayView<float> table)
    {
        if (rows == 0)
        {
            return;
        }

        Begin("ApplyRotary");
        Launch(nameof(LlamaKernels.Rotary));
        var args = new RotaryArgs
        {
            Qkv = View(qkv),
            Positions = View(positions),
            Table = View(table),
            QueryHeads = queryHeads,
            KvHeads = kvHeads,
            HeadSize = headSize,
            TablePositions = checked((int)(table.Length / headSize)),
        };
        _kernels.Rotary(new Index2D(headSize / 2, rows * (queryHeads + kvHeads)), args);
        End();
    }

    /// <inheritdoc />
    protected override void SwiGluCore(ArrayView<float> gateUp, int rows, int width, ArrayView<float> output)
    {
        if (rows == 0)
        {
            return;
        }

        Begin("SwiGlu");
        Launch(nameof(LlamaKernels.SwiGlu));
        _kernels.SwiGlu(new Index2D(width, rows), View(gateUp), View(output), width);
        End();
    }
}
