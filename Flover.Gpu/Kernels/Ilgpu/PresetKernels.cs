using System.Runtime.CompilerServices;
using Flover.Gpu.Models;
using ILGPU;

namespace Flover.Gpu.Kernels.Ilgpu;

/// <summary>The arguments of <see cref="PresetKernels.Fill"/>: one preset tensor and where it goes.</summary>
internal struct PresetFillArgs
{
    /// <summary>The device tensor, in the precision it is held in.</summary>
    public WeightView Output;

    /// <summary>The tensor's element count.</summary>
    public long Count;

    /// <summary>The counter pair thread 0 computes (launches over more than 2³¹ pairs go in parts).</summary>
    public long FirstPair;

    public uint K0;
    public uint K1;
    public uint K2;
    public uint K3;

    /// <summary><see cref="SeededNormalMath.RadiusScale"/> of the tensor's standard deviation.</summary>
    public float RadiusScale;

    /// <summary><see cref="PresetKernels.Normal"/>, <see cref="PresetKernels.Zeros"/> or <see cref="PresetKernels.Ones"/>.</summary>
    public int Fill;

    /// <summary>The <see cref="DeviceMath"/> format the preset's values are rounded to before they are stored (the preset's dtype).</summary>
    public int Rounding;

    /// <summary>Nonzero for an output-major checkpoint tensor <c>[Rows = N][Columns = K]</c> held input-major <c>[K][N]</c>.</summary>
    public int Transpose;

    public long Rows;

    public long Columns;
}

/// <summary>
/// Preset weights generated where they are held: <see cref="SeededNormal"/>'s values (the same
/// stream keys, pair counters, hash and polynomials, through <see cref="SeededNormalMath"/>) scaled
/// by the tensor's standard deviation, or zeros or ones, rounded to the preset's dtype and then to
/// the device tensor's exactly as the host's generation and upload round them. The device never
/// receives a weight byte from the host.
/// </summary>
internal static class PresetKernels
{
    public const int Normal = 0;
    public const int Zeros = 1;
    public const int Ones = 2;

    /// <summary>One counter pair per thread: its cosine and, 8 elements later, its sine (a generator block is 16 elements). Index: pair − <see cref="PresetFillArgs.FirstPair"/>.</summary>
    public static void Fill(Index1D index, PresetFillArgs a)
    {
        long pair = a.FirstPair + index;
        long first = ((pair >> 3) << 4) + (pair & 7);
        float cosine;
        float sine;
        if (a.Fill == Normal)
        {
            SeededNormalMath.Pair((uint)pair, a.K0, a.K1, a.K2, a.K3, a.RadiusScale, out cosine, out sine);
        }
        else
        {
            cosine = a.Fill == Ones ? 1f : 0f;
            sine = cosine;
        }

        Store(a, first, cosine);
        Store(a, first + 8, sine);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(PresetFillArgs a, long element, float value)
    {
        // The tail block's lanes past the end are computed and dropped, as the host's are.
        if (element >= a.Count)
        {
            return;
        }

        // Widening is exact, so rounding to the preset's dtype first and to the held one second is
        // the host's generate-then-upload; where the two agree the second rounding changes nothing.
        if (a.Rounding == DeviceMath.FormatF16)
        {
            value = DeviceMath.HalfToSingle(DeviceMath.SingleToHalf(value));
        }
        else if (a.Rounding == DeviceMath.FormatBF16)
        {
            value = DeviceMath.BFloat16ToSingle(DeviceMath.SingleToBFloat16(value));
        }

        long at = a.Transpose != 0 ? ((element % a.Columns) * a.Rows) + (element / a.Columns) : element;
        a.Output.Store(at, value);
    }
}
