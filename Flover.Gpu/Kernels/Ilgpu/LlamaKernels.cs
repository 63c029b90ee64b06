using ILGPU;
using ILGPU.Algorithms;

namespace Flover.Gpu.Kernels.Ilgpu;

/// <summary>The arguments of <see cref="LlamaKernels.Rotary"/>.</summary>
internal struct RotaryArgs
{
    public ArrayView<float> Qkv;
    public ArrayView<int> Positions;

    /// <summary>Per position, HeadSize / 2 cosines then as many sines.</summary>
    public ArrayView<float> Table;
    public int QueryHeads;
    public int KvHeads;
    public int HeadSize;
    public int TablePositions;
}

/// <summary>
/// LLaMA's row kernels on the device, each output element computed by one thread in a fixed order,
/// so a row's bits never depend on its neighbours: RMS norm (one thread per row, the sum of squares
/// in index order), rotary embeddings and SwiGLU (one thread per element).
/// </summary>
internal static class LlamaKernels
{
    /// <summary><c>y = gain · (x · 1/√(mean(x²) + ε))</c> for row <c>index</c>.</summary>
    public static void RmsNorm(Index1D index, ArrayView<float> input, ArrayView<float> output, ArrayView<float> gain, int width, float epsilon)
    {
        long start = (long)index.X * width;
        float sum = 0f;
        for (int i = 0; i < width; i++)
        {
            float x = input[start + i];
            sum += x * x;
        }

        float inverse = 1f / XMath.Sqrt((sum / width) + epsilon);
        for (int i = 0; i < width; i++)
        {
            output[start + i] = gain[i] * (input[start + i] * inverse);
        }
    }

    /// <summary>Rotates pair (i, i + d/2) of query or key head <c>Y % heads</c> of row <c>Y / heads</c>. Index: (i, row · heads + head).</summary>
    public static void Rotary(Index2D index, RotaryArgs a)
    {
        int heads = a.QueryHeads + a.KvHeads;
        int row = index.Y / heads;
        int head = index.Y - (row * heads);
        int position = a.Positions[row];
        if ((uint)position >= (uint)a.TablePositions)
        {
            return;
        }

        int half = a.HeadSize / 2;
        int i = index.X;
        long table = (long)position * a.HeadSize;
        float cos = a.Table[table + i];
        float sin = a.Table[table + half + i];
        long at = ((long)row * (a.QueryHeads + (2 * a.KvHeads)) * a.HeadSize) + ((long)head * a.HeadSize) + i;
        float x1 = a.Qkv[at];
        float x2 = a.Qkv[at + half];
        a.Qkv[at] = (x1 * cos) - (x2 * sin);
        a.Qkv[at + half] = (x2 * cos) + (x1 * sin);
    }

    /// <summary><c>out[r, i] = silu(gateUp[r, i]) · gateUp[r, width + i]</c>. Index: (i, r).</summary>
    public static void SwiGlu(Index2D index, ArrayView<float> gateUp, ArrayView<float> output, int width)
    {
        long gate = ((long)index.Y * 2 * width) + index.X;
        float g = gateUp[gate];
        output[((long)index.Y * width) + index.X] = g / (1f + XMath.Exp(-g)) * gateUp[gate + width];
    }
}
