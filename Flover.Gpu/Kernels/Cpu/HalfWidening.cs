using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Kernels.Cpu;

/// <summary>
/// How panel elements of <typeparamref name="TElement"/> become F32 in registers, 16 (Vector512) or
/// 8 (Vector256) values at a time: a plain load for F32, an exact widening for the half formats.
/// Implemented by structs so each micro-kernel is compiled once per format with the load inlined,
/// and every format feeds the very same FMA chain.
/// </summary>
/// <typeparam name="TElement">The stored element: float, or ushort bits of a half format.</typeparam>
internal unsafe interface IPanelFormat<TElement>
    where TElement : unmanaged
{
    static abstract Vector512<float> Widen16(TElement* source);

    static abstract Vector256<float> Widen8(TElement* source);

    /// <summary>One element, for the tails of rows that are not a multiple of 8 (KV heads).</summary>
    static abstract float Widen1(TElement* source);
}

/// <summary>F32 panels: the values are loaded as they are.</summary>
internal readonly unsafe struct F32Format : IPanelFormat<float>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Widen16(float* source) => Vector512.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Widen8(float* source) => Vector256.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Widen1(float* source) => *source;
}

/// <summary>
/// F16 without infinities or NaNs (checked when the matrix is packed): sign-extend to 32 bits, shift
/// the exponent and mantissa into binary32 position, clear the three sign copies that landed in the
/// exponent, then multiply by 2¹¹² to rebias the exponent (15 → 127). The multiply is exact for
/// normal and subnormal halves alike: a power-of-two scale of a value that stays representable.
/// Four instructions for 16 values; .NET exposes no F16C conversion.
/// </summary>
internal readonly unsafe struct FiniteF16Format : IPanelFormat<ushort>
{
    private const float ExponentRebias = 5.192297e33f;
    private const uint KeepSignExponentMantissa = 0x8FFFE000u;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Widen16(ushort* source) => Unbiased16(source) * Vector512.Create(ExponentRebias);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Widen8(ushort* source) => Unbiased8(source) * Vector256.Create(ExponentRebias);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Widen1(ushort* source) => (float)BitConverter.UInt16BitsToHalf(*source);

    /// <summary>The halves' sign, exponent and mantissa in binary32 position: their values times 2⁻¹¹².</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Unbiased16(ushort* source)
    {
        Vector512<int> signExtended = Avx512F.IsSupported
            ? Avx512F.ConvertToVector512Int32(Vector256.Load((short*)source))
            : Vector512.WidenLower(Vector512.Create(Vector256.Load((short*)source), Vector256<short>.Zero));
        return ((signExtended.AsUInt32() << 13) & Vector512.Create(KeepSignExponentMantissa)).AsSingle();
    }

    /// <summary>Eight halves as <see cref="Unbiased16"/> makes sixteen.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Unbiased8(ushort* source)
    {
        Vector256<int> signExtended = Avx2.IsSupported
            ? Avx2.ConvertToVector256Int32((short*)source)
            : Vector256.WidenLower(Vector256.Create(Vector128.Load((short*)source), Vector128<short>.Zero));
        return ((signExtended.AsUInt32() << 13) & Vector256.Create(KeepSignExponentMantissa)).AsSingle();
    }
}

/// <summary>
/// Finite F16 left at 2⁻¹¹² of its value: <see cref="FiniteF16Format"/> without the rebias multiply,
/// for a matmul whose input was scaled by 2¹¹² instead (<see cref="MatMulKernel"/>). The FMA's exact
/// product makes <c>fma(w · 2⁻¹¹², x · 2¹¹², acc)</c> the very same rounding as <c>fma(w, x, acc)</c>:
/// <c>w · 2⁻¹¹²</c> is exact for every finite half (a subnormal half lands on a binary32 subnormal
/// with room to spare), and <c>x · 2¹¹²</c> is exact while |x| &lt; 2¹⁶. One instruction fewer per 16
/// weights, the difference between widening-bound and memory-bound at batch 1.
/// </summary>
internal readonly unsafe struct RebiasedF16Format : IPanelFormat<ushort>
{
    /// <summary>The input scale: 2¹¹².</summary>
    public const float InputScale = 5.192297e33f;

    /// <summary>Largest input magnitude (exclusive) whose scaled value stays finite: 2¹⁶.</summary>
    public const float InputLimit = 65536f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Widen16(ushort* source) => FiniteF16Format.Unbiased16(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Widen8(ushort* source) => FiniteF16Format.Unbiased8(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Widen1(ushort* source) => (float)BitConverter.UInt16BitsToHalf(*source) / InputScale;
}

/// <summary>
/// Any F16, infinities and NaNs included: the finite widening, then the all-ones exponent restored
/// where the half's was, and NaNs made quiet with their payload kept, as <c>vcvtph2ps</c> and .NET's
/// <see cref="Half"/> conversion do.
/// </summary>
internal readonly unsafe struct F16Format : IPanelFormat<ushort>
{
    private const uint InfinityShifted = 0x7C00u << 13;
    private const uint QuietNaN = 0x00400000u;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Widen16(ushort* source)
    {
        Vector512<uint> magnitude = (BF16Format.ZeroExtend16(source) & Vector512.Create(0x7FFFu)) << 13;
        Vector512<uint> special = Vector512.GreaterThanOrEqual(magnitude, Vector512.Create(InfinityShifted));
        Vector512<uint> finite = FiniteF16Format.Widen16(source).AsUInt32();
        Vector512<uint> quiet = Vector512.GreaterThan(magnitude, Vector512.Create(InfinityShifted)) & Vector512.Create(QuietNaN);
        return Vector512.ConditionalSelect(special, (finite & Vector512.Create(0x80000000u)) | magnitude | quiet | Vector512.Create(0x70000000u), finite).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Widen8(ushort* source)
    {
        Vector256<uint> magnitude = (BF16Format.ZeroExtend8(source) & Vector256.Create(0x7FFFu)) << 13;
        Vector256<uint> special = Vector256.GreaterThanOrEqual(magnitude, Vector256.Create(InfinityShifted));
        Vector256<uint> finite = FiniteF16Format.Widen8(source).AsUInt32();
        Vector256<uint> quiet = Vector256.GreaterThan(magnitude, Vector256.Create(InfinityShifted)) & Vector256.Create(QuietNaN);
        return Vector256.ConditionalSelect(special, (finite & Vector256.Create(0x80000000u)) | magnitude | quiet | Vector256.Create(0x70000000u), finite).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Widen1(ushort* source) => (float)BitConverter.UInt16BitsToHalf(*source);
}

/// <summary>bfloat16: the top half of a binary32, widened by a zero-extending load and a shift.</summary>
internal readonly unsafe struct BF16Format : IPanelFormat<ushort>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Widen16(ushort* source) => (ZeroExtend16(source) << 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Widen8(ushort* source) => (ZeroExtend8(source) << 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Widen1(ushort* source) => BFloat16Bits.ToSingle(*source);

    /// <summary>Zero-extends 16 ushorts to uints: one <c>vpmovzxwd</c> where AVX-512 is there.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<uint> ZeroExtend16(ushort* source) => Avx512F.IsSupported
        ? Avx512F.ConvertToVector512UInt32(Vector256.Load(source))
        : Vector512.WidenLower(Vector512.Create(Vector256.Load(source), Vector256<ushort>.Zero));

    /// <summary>Zero-extends 8 ushorts to uints.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<uint> ZeroExtend8(ushort* source) => Avx2.IsSupported
        ? Avx2.ConvertToVector256Int32(source).AsUInt32()
        : Vector256.WidenLower(Vector256.Create(Vector128.Load(source), Vector128<ushort>.Zero));
}

/// <summary>Whole-buffer widening and narrowing for packing and for the many-row matmul path.</summary>
internal static unsafe class HalfWidening
{
    /// <summary>Widens <paramref name="count"/> values of <typeparamref name="TFormat"/> into <paramref name="destination"/>.</summary>
    public static void Widen<TFormat>(ushort* source, float* destination, long count)
        where TFormat : IPanelFormat<ushort>
    {
        long i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= count; i += 16)
            {
                TFormat.Widen16(source + i).Store(destination + i);
            }
        }

        for (; i + 8 <= count; i += 8)
        {
            TFormat.Widen8(source + i).Store(destination + i);
        }

        // Panels are multiples of 64 values, so no tail remains; kept exact for any caller.
        for (; i < count; i++)
        {
            destination[i] = typeof(TFormat) == typeof(BF16Format) ? BFloat16Bits.ToSingle(source[i]) : (float)BitConverter.UInt16BitsToHalf(source[i]);
        }
    }

    /// <summary>Rounds a binary32 to binary16, to nearest with ties to even (overflow gives ±Inf).</summary>
    public static ushort NarrowToF16(float value) => BitConverter.HalfToUInt16Bits((Half)value);

    /// <summary>Whether any of <paramref name="count"/> F16 values is an infinity or a NaN (exponent 31).</summary>
    public static bool AnyNonFiniteF16(ushort* values, long count)
    {
        // The largest magnitude pattern decides: exponent 31 is the only one at or above 0x7C00.
        long i = 0;
        Vector256<ushort> largest = Vector256<ushort>.Zero;
        for (; i + Vector256<ushort>.Count <= count; i += Vector256<ushort>.Count)
        {
            largest = Vector256.Max(largest, Vector256.Load(values + i) & Vector256.Create((ushort)0x7FFF));
        }

        if (Vector256.GreaterThanOrEqualAny(largest, Vector256.Create((ushort)0x7C00)))
        {
            return true;
        }

        for (; i < count; i++)
        {
            if ((values[i] & 0x7C00) == 0x7C00)
            {
                return true;
            }
        }

        return false;
    }
}
