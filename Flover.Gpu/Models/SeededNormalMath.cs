using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime.Cuda;

namespace Flover.Gpu.Models;

/// <summary>
/// The one definition of <see cref="SeededNormal"/>'s arithmetic: its constants (which the host's
/// vector code reads) and the same steps for one counter pair in scalar form (which the device
/// kernel inlines, <see cref="Kernels.Ilgpu.PresetKernels"/>). Every step is one IEEE operation
/// rounded to nearest, so a scalar pair equals the vector lanes bit for bit.
/// </summary>
/// <remarks>
/// On a GPU, PTX's plain <c>mul.f32</c> and <c>add.f32</c> (what ILGPU emits for <c>*</c> and
/// <c>+</c>) may be contracted into a fused multiply-add by ptxas, which rounds once instead of
/// twice and changes the polynomials' last bits. <see cref="Mul"/>, <see cref="Add"/> and
/// <see cref="Sub"/> therefore emit <c>mul.rn.f32</c>, <c>add.rn.f32</c> and <c>sub.rn.f32</c> on
/// CUDA, which PTX never contracts; elsewhere (the host, ILGPU's CPU accelerator) they are the
/// plain operators, which .NET never contracts either. Division (<c>div.rn.f32</c>), square root
/// (<c>sqrt.rn.f32</c>) and int-to-float conversion (<c>cvt.rn</c>) are already correctly rounded.
/// </remarks>
internal static class SeededNormalMath
{
    public const uint HashMultiplier1 = 0x7feb352du;
    public const uint HashMultiplier2 = 0x846ca68bu;
    public const float Sqrt2 = 1.41421356f;
    public const float Ln2 = 0.693147181f;
    public const float QuarterPi = 0.785398163f;
    public const float InverseSqrt2 = 0.707106781f;
    public const float TwoToMinus24 = 1f / 16777216f;

    // ln(m) = 2 atanh(s), s = (m − 1)/(m + 1): the series 1 + s²/3 + s⁴/5 + s⁶/7 + s⁸/9, Horner from the top.
    public const float Log9 = 1f / 9;
    public const float Log7 = 1f / 7;
    public const float Log5 = 1f / 5;
    public const float Log3 = 1f / 3;

    // Taylor coefficients of sin(x)/x and cos(x) in x², largest power first, signs included.
    public const float Sin9 = 1f / 362880;
    public const float Sin7 = -1f / 5040;
    public const float Sin5 = 1f / 120;
    public const float Sin3 = -1f / 6;
    public const float Cos10 = -1f / 3628800;
    public const float Cos8 = 1f / 40320;
    public const float Cos6 = -1f / 720;
    public const float Cos4 = 1f / 24;
    public const float Cos2 = -0.5f;

    /// <summary>The factor under the radius's square root for N(0, <paramref name="std"/>): −2σ², rounded as the host rounds it.</summary>
    public static float RadiusScale(float std) => -2f * std * std;

    /// <summary>
    /// Counter pair <paramref name="pair"/> of the stream keyed <paramref name="k0"/>..<paramref name="k3"/>:
    /// the cosine (element <c>16·(pair / 8) + pair % 8</c>) and the sine (8 elements later).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Pair(uint pair, uint k0, uint k1, uint k2, uint k3, float radiusScale, out float cosine, out float sine)
    {
        uint radiusBits = Mix(Mix(pair ^ k0) + k1);
        uint angleBits = Mix(Mix(pair ^ k2) + k3);

        // u in (0, 1] from the top 24 bits, so ln(u) is finite.
        float u = Mul((int)(radiusBits >> 8) + 1, TwoToMinus24);
        float radius = XMath.Sqrt(Mul(Log(u), radiusScale));

        // Angle in [0, pi/2), evaluated around pi/4 where the polynomials are most accurate.
        float f = Mul((int)(angleBits >> 8), TwoToMinus24);
        float x = Mul(Sub(Mul(f, 2f), 1f), QuarterPi);
        SinCos(x, out float sinX, out float cosX);
        float sin = Mul(Add(sinX, cosX), InverseSqrt2);
        float cos = Mul(Sub(cosX, sinX), InverseSqrt2);

        cosine = Interop.IntAsFloat(Interop.FloatAsInt(Mul(radius, cos)) ^ (angleBits << 31));
        sine = Interop.IntAsFloat(Interop.FloatAsInt(Mul(radius, sin)) ^ ((angleBits >> 1) << 31));
    }

    /// <summary>The keyed hash's round: Wellons' <c>lowbias32</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Mix(uint x)
    {
        x ^= x >> 16;
        x *= HashMultiplier1;
        x ^= x >> 15;
        x *= HashMultiplier2;
        return x ^ (x >> 16);
    }

    /// <summary>Natural log of a positive normal float, as <see cref="SeededNormal.Log"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Log(float value)
    {
        uint bits = Interop.FloatAsInt(value);
        int exponent = (int)(bits >> 23) - 127;
        float mantissa = Interop.IntAsFloat((bits & 0x007FFFFFu) | 0x3F800000u);
        bool large = mantissa > Sqrt2;
        mantissa = large ? Mul(mantissa, 0.5f) : mantissa;
        float e = Add(exponent, large ? 1f : 0f);

        float s = Sub(mantissa, 1f) / Add(mantissa, 1f);
        float s2 = Mul(s, s);
        float series = Add(Mul(Log9, s2), Log7);
        series = Add(Mul(series, s2), Log5);
        series = Add(Mul(series, s2), Log3);
        series = Add(Mul(series, s2), 1f);
        return Add(Mul(e, Ln2), Mul(Mul(2f, s), series));
    }

    /// <summary>Sine and cosine of |x| ≤ pi/4, as <see cref="SeededNormal.SinCos"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SinCos(float x, out float sin, out float cos)
    {
        float x2 = Mul(x, x);
        float s = Add(Mul(Sin9, x2), Sin7);
        s = Add(Mul(s, x2), Sin5);
        s = Add(Mul(s, x2), Sin3);
        s = Add(Mul(s, x2), 1f);
        sin = Mul(s, x);

        float c = Add(Mul(Cos10, x2), Cos8);
        c = Add(Mul(c, x2), Cos6);
        c = Add(Mul(c, x2), Cos4);
        c = Add(Mul(c, x2), Cos2);
        cos = Add(Mul(c, x2), 1f);
    }

    /// <summary>a·b rounded to nearest even, never fused with a following addition.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Mul(float a, float b)
    {
        if (CudaAsm.IsSupported)
        {
            CudaAsm.Emit("mul.rn.f32 %0, %1, %2;", out float product, a, b);
            return product;
        }

        return a * b;
    }

    /// <summary>a + b rounded to nearest even, never fused with a preceding multiplication.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Add(float a, float b)
    {
        if (CudaAsm.IsSupported)
        {
            CudaAsm.Emit("add.rn.f32 %0, %1, %2;", out float sum, a, b);
            return sum;
        }

        return a + b;
    }

    /// <summary>a − b rounded to nearest even, never fused with a preceding multiplication.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Sub(float a, float b)
    {
        if (CudaAsm.IsSupported)
        {
            CudaAsm.Emit("sub.rn.f32 %0, %1, %2;", out float difference, a, b);
            return difference;
        }

        return a - b;
    }
}
