using Flover.Gpu.Accelerators;
using Flover.Gpu.Kernels.Cpu;

namespace Flover.Gpu.Tests.Accelerators;

/// <summary>
/// Batch invariance of the CPU's RMSNorm, rotary and SwiGLU, bitwise: a row's result never depends
/// on how many rows share its pass, on the worker count, or on where the chunks of a launch begin and
/// end (including chunks that split a row or a vector), at widths with tails.
/// </summary>
public sealed unsafe class LlamaRowKernelInvarianceTests
{
    private const int Rows = 37;

    [Theory]
    [InlineData(7)]
    [InlineData(33)]
    [InlineData(2053)]
    public void Rms_norm_rows_are_the_same_bits_alone_in_any_pass_and_on_any_worker_count(int width)
    {
        float[] x = LlamaKernelRuns.Values(10, Rows * width, 4);
        float[] gain = LlamaKernelRuns.Values(11, width, 2);

        float[] one = LlamaKernelRuns.RmsNorm(threads: 1, x, Rows, width, gain);
        float[] three = LlamaKernelRuns.RmsNorm(threads: 3, x, Rows, width, gain);

        Assert.Equal(one, three);
        for (int row = 0; row < Rows; row += 9)
        {
            Assert.Equal(one.AsSpan(row * width, width).ToArray(), LlamaKernelRuns.RmsNorm(threads: 2, x.AsSpan(row * width, width).ToArray(), 1, width, gain));
        }
    }

    [Theory]
    [InlineData(7)]
    [InlineData(100)]
    [InlineData(5635)]
    public void SwiGlu_rows_are_the_same_bits_alone_in_any_pass_and_on_any_worker_count(int width)
    {
        float[] gateUp = LlamaKernelRuns.Values(12, Rows * 2 * width, 12);

        float[] one = LlamaKernelRuns.SwiGlu(threads: 1, gateUp, Rows, width);
        float[] three = LlamaKernelRuns.SwiGlu(threads: 3, gateUp, Rows, width);

        Assert.Equal(one, three);
        for (int row = 0; row < Rows; row += 9)
        {
            Assert.Equal(one.AsSpan(row * width, width).ToArray(), LlamaKernelRuns.SwiGlu(threads: 2, gateUp.AsSpan(row * 2 * width, 2 * width).ToArray(), 1, width));
        }
    }

    [Theory]
    [InlineData(34)]
    [InlineData(128)]
    public void Rotary_rows_are_the_same_bits_alone_in_any_pass_and_on_any_worker_count(int headSize)
    {
        // 300 rows of 5 query and 1 key head: enough rotated elements for the launch to be split over workers.
        const int rows = 300, queryHeads = 5, kvHeads = 1;
        int rowWidth = (queryHeads + (2 * kvHeads)) * headSize;
        float[] qkv = LlamaKernelRuns.Values(13, rows * rowWidth, 3);
        float[] table = LlamaKernelRuns.RotaryTable(positions: 64, headSize);
        int[] positions = [.. Enumerable.Range(0, rows).Select(r => (r * 7) % 64)];

        float[] one = LlamaKernelRuns.Rotary(threads: 1, qkv, rows, positions, queryHeads, kvHeads, headSize, table);
        float[] three = LlamaKernelRuns.Rotary(threads: 3, qkv, rows, positions, queryHeads, kvHeads, headSize, table);

        Assert.Equal(one, three);
        for (int row = 0; row < rows; row += 37)
        {
            float[] alone = LlamaKernelRuns.Rotary(threads: 2, qkv.AsSpan(row * rowWidth, rowWidth).ToArray(), 1, [positions[row]], queryHeads, kvHeads, headSize, table);
            Assert.Equal(one.AsSpan(row * rowWidth, rowWidth).ToArray(), alone);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(13)]
    [InlineData(100)]
    public void SwiGlu_chunks_that_split_rows_and_vectors_change_no_bit(int elementsPerChunk)
    {
        const int rows = 5, width = 45;
        float[] gateUp = LlamaKernelRuns.Values(14, rows * 2 * width, 30);
        var whole = new float[rows * width];
        var chunked = new float[rows * width];
        using var single = new WorkerPool(1);
        using var pool = new WorkerPool(3);
        var kernel = new SwiGluKernel();
        fixed (float* input = gateUp, a = whole, b = chunked)
        {
            kernel.Set(input, rows, width, a, rows * width);
            single.Run(kernel);
            kernel.Set(input, rows, width, b, elementsPerChunk);
            pool.Run(kernel);
        }

        Assert.Equal(whole, chunked);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Rotary_chunks_of_any_number_of_heads_change_no_bit(int headsPerChunk)
    {
        const int rows = 6, queryHeads = 4, kvHeads = 2, headSize = 22;
        int length = rows * (queryHeads + (2 * kvHeads)) * headSize;
        float[] qkv = LlamaKernelRuns.Values(15, length, 3);
        float[] table = LlamaKernelRuns.RotaryTable(positions: 10, headSize);
        int[] positions = [9, 0, 3, 3, 1, 8];
        float[] whole = [.. qkv];
        float[] chunked = [.. qkv];
        using var single = new WorkerPool(1);
        using var pool = new WorkerPool(3);
        var kernel = new RotaryKernel();
        fixed (float* a = whole, b = chunked, rotations = table)
        fixed (int* rowPositions = positions)
        {
            kernel.Set(a, rows, rowPositions, queryHeads, kvHeads, headSize, rotations, table.Length, rows * (queryHeads + kvHeads));
            single.Run(kernel);
            kernel.Set(b, rows, rowPositions, queryHeads, kvHeads, headSize, rotations, table.Length, headsPerChunk);
            pool.Run(kernel);
        }

        Assert.Equal(whole, chunked);
    }

    [Fact]
    public void SwiGlu_elements_are_the_same_bits_in_the_vector_body_and_in_the_tail()
    {
        // Each element alone goes through the padded tail; in a row of 64 it is in a Vector512 (or
        // Vector256) body. Any difference would make a row's bits depend on its width's remainder.
        float[] gate = LlamaKernelRuns.Values(16, 64, 90);
        float[] up = LlamaKernelRuns.Values(17, 64, 2);
        var body = new float[64];
        var tail = new float[64];
        fixed (float* g = gate, u = up, y = body, t = tail)
        {
            SwiGluKernel.Row(g, u, y, 64);
            for (int i = 0; i < 64; i++)
            {
                SwiGluKernel.Row(g + i, u + i, t + i, 1);
            }
        }

        Assert.Equal(body, tail);
    }
}
