using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Flover.Gpu.Kernels.Cpu;

/// <summary>
/// The register blocks of the matmul, one set for every panel format: each output lane accumulates
/// <c>acc = fma(w[k], x[k], acc)</c> for k = 0..K−1 from zero, whichever block (4 rows or 1, Vector512
/// or Vector256) computes it and whatever the format widens from, so results are bitwise the same.
/// </summary>
internal sealed unsafe partial class MatMulKernel
{
    /// <summary>Four rows × 64 columns: 16 Vector512 accumulators, each widened weight vector reused by four rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x512<TElement, TFormat>(float* x, int k, TElement* panel, float* tile)
        where TElement : unmanaged
        where TFormat : IPanelFormat<TElement>
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        float* x1 = x + k;
        float* x2 = x1 + k;
        float* x3 = x2 + k;
        for (int i = 0; i < k; i++)
        {
            TElement* w = panel + ((long)i * PanelWidth);
            Vector512<float> w0 = TFormat.Widen16(w);
            Vector512<float> w1 = TFormat.Widen16(w + 16);
            Vector512<float> w2 = TFormat.Widen16(w + 32);
            Vector512<float> w3 = TFormat.Widen16(w + 48);
            Vector512<float> b = Vector512.Create(x[i]);
            a00 = Vector512.FusedMultiplyAdd(w0, b, a00);
            a01 = Vector512.FusedMultiplyAdd(w1, b, a01);
            a02 = Vector512.FusedMultiplyAdd(w2, b, a02);
            a03 = Vector512.FusedMultiplyAdd(w3, b, a03);
            b = Vector512.Create(x1[i]);
            a10 = Vector512.FusedMultiplyAdd(w0, b, a10);
            a11 = Vector512.FusedMultiplyAdd(w1, b, a11);
            a12 = Vector512.FusedMultiplyAdd(w2, b, a12);
            a13 = Vector512.FusedMultiplyAdd(w3, b, a13);
            b = Vector512.Create(x2[i]);
            a20 = Vector512.FusedMultiplyAdd(w0, b, a20);
            a21 = Vector512.FusedMultiplyAdd(w1, b, a21);
            a22 = Vector512.FusedMultiplyAdd(w2, b, a22);
            a23 = Vector512.FusedMultiplyAdd(w3, b, a23);
            b = Vector512.Create(x3[i]);
            a30 = Vector512.FusedMultiplyAdd(w0, b, a30);
            a31 = Vector512.FusedMultiplyAdd(w1, b, a31);
            a32 = Vector512.FusedMultiplyAdd(w2, b, a32);
            a33 = Vector512.FusedMultiplyAdd(w3, b, a33);
        }

        a00.Store(tile);
        a01.Store(tile + 16);
        a02.Store(tile + 32);
        a03.Store(tile + 48);
        a10.Store(tile + 64);
        a11.Store(tile + 80);
        a12.Store(tile + 96);
        a13.Store(tile + 112);
        a20.Store(tile + 128);
        a21.Store(tile + 144);
        a22.Store(tile + 160);
        a23.Store(tile + 176);
        a30.Store(tile + 192);
        a31.Store(tile + 208);
        a32.Store(tile + 224);
        a33.Store(tile + 240);
    }

    /// <summary>One row × 64 columns with four Vector512 accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block1x512<TElement, TFormat>(float* x, int k, TElement* panel, float* tile)
        where TElement : unmanaged
        where TFormat : IPanelFormat<TElement>
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int i = 0; i < k; i++)
        {
            TElement* w = panel + ((long)i * PanelWidth);
            Vector512<float> b = Vector512.Create(x[i]);
            a0 = Vector512.FusedMultiplyAdd(TFormat.Widen16(w), b, a0);
            a1 = Vector512.FusedMultiplyAdd(TFormat.Widen16(w + 16), b, a1);
            a2 = Vector512.FusedMultiplyAdd(TFormat.Widen16(w + 32), b, a2);
            a3 = Vector512.FusedMultiplyAdd(TFormat.Widen16(w + 48), b, a3);
        }

        a0.Store(tile);
        a1.Store(tile + 16);
        a2.Store(tile + 32);
        a3.Store(tile + 48);
    }

    /// <summary>One row × 64 columns with eight Vector256 accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block1x256<TElement, TFormat>(float* x, int k, TElement* panel, float* tile)
        where TElement : unmanaged
        where TFormat : IPanelFormat<TElement>
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<float> a4 = default, a5 = default, a6 = default, a7 = default;
        for (int i = 0; i < k; i++)
        {
            TElement* w = panel + ((long)i * PanelWidth);
            Vector256<float> b = Vector256.Create(x[i]);
            a0 = Vector256.FusedMultiplyAdd(TFormat.Widen8(w), b, a0);
            a1 = Vector256.FusedMultiplyAdd(TFormat.Widen8(w + 8), b, a1);
            a2 = Vector256.FusedMultiplyAdd(TFormat.Widen8(w + 16), b, a2);
            a3 = Vector256.FusedMultiplyAdd(TFormat.Widen8(w + 24), b, a3);
            a4 = Vector256.FusedMultiplyAdd(TFormat.Widen8(w + 32), b, a4);
            a5 = Vector256.FusedMultiplyAdd(TFormat.Widen8(w + 40), b, a5);
            a6 = Vector256.FusedMultiplyAdd(TFormat.Widen8(w + 48), b, a6);
            a7 = Vector256.FusedMultiplyAdd(TFormat.Widen8(w + 56), b, a7);
        }

        a0.Store(tile);
        a1.Store(tile + 8);
        a2.Store(tile + 16);
        a3.Store(tile + 24);
        a4.Store(tile + 32);
        a5.Store(tile + 40);
        a6.Store(tile + 48);
        a7.Store(tile + 56);
    }
}
