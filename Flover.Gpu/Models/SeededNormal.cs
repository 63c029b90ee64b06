using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Flover.Gpu.Models;

/// <summary>
/// A counter-based normal generator: element <c>i</c> of a stream depends only on the stream's
/// key and <c>i</c>, never on which thread computes it or in what order, so weights generated in
/// parallel are identical for any degree of parallelism.
/// </summary>
/// <remarks>
/// Elements come in blocks of 16. Block <c>b</c> turns pair counters <c>p = 8b + lane</c> into two
/// 32-bit words with a keyed, twice-applied <c>lowbias32</c> integer hash (C. Wellons' bijective
/// mixer, the SplitMix finaliser's 32-bit cousin), then Box-Muller: the first word gives the
/// radius <c>sqrt(-2 ln u)</c>, the second an angle in the first quadrant plus two sign bits
/// (sign reflections of a first-quadrant angle cover the circle uniformly). The 8 cosines fill
/// the block's first half, the 8 sines its second. <c>ln</c>, <c>sin</c> and <c>cos</c> are
/// polynomials (errors of a few 1e-7) built from plain IEEE operations, so results are the
/// same bit for bit with or without hardware vectors. The constants, and the same steps for one
/// pair in scalar form (which the device kernel runs), are <see cref="SeededNormalMath"/>'s.
/// </remarks>
internal static class SeededNormal
{
    /// <summary>Elements produced per block; chunks handed to <see cref="Fill"/> start on a block boundary.</summary>
    public const int BlockSize = 16;


    /// <summary>Fills <paramref name="destination"/> with N(0, <paramref name="std"/>) values for elements starting at <paramref name="firstElement"/>.</summary>
    // Fully optimised from the first call: presets are generated once, at start-up, so tiered
    // compilation would run most of the work in unoptimised tier-0 code that inlines nothing.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Fill(Span<float> destination, long firstElement, StreamKey key, float std)
    {
        if (firstElement % BlockSize != 0)
        {
            throw new ArgumentException($"Chunks start on a {BlockSize}-element boundary; {firstElement} does not.", nameof(firstElement));
        }

        uint pair = checked((uint)(firstElement / 2));
        int full = destination.Length / BlockSize * BlockSize;
        ref float start = ref destination[0];
        for (int i = 0; i < full; i += BlockSize, pair += BlockSize / 2)
        {
            Block(pair, key, std, out Vector256<float> cosines, out Vector256<float> sines);
            cosines.StoreUnsafe(ref start, (nuint)i);
            sines.StoreUnsafe(ref start, (nuint)(i + 8));
        }

        if (full < destination.Length)
        {
            Span<float> last = stackalloc float[BlockSize];
            Block(pair, key, std, out Vector256<float> cosines, out Vector256<float> sines);
            cosines.CopyTo(last);
            sines.CopyTo(last[8..]);
            last[..(destination.Length - full)].CopyTo(destination[full..]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block(uint firstPair, StreamKey key, float std, out Vector256<float> cosines, out Vector256<float> sines)
    {
        Vector256<uint> counters = Vector256.Create(firstPair) + Vector256.Create(0u, 1, 2, 3, 4, 5, 6, 7);
        Vector256<uint> radiusBits = Mix(Mix(counters ^ Vector256.Create(key.K0)) + Vector256.Create(key.K1));
        Vector256<uint> angleBits = Mix(Mix(counters ^ Vector256.Create(key.K2)) + Vector256.Create(key.K3));

        // u in (0, 1] from the top 24 bits, so ln(u) is finite.
        Vector256<float> u = Vector256.ConvertToSingle((radiusBits >> 8).AsInt32() + Vector256<int>.One) * Vector256.Create(SeededNormalMath.TwoToMinus24);
        Vector256<float> radius = Vector256.Sqrt(Log(u) * Vector256.Create(SeededNormalMath.RadiusScale(std)));

        // Angle in [0, pi/2), evaluated around pi/4 where the polynomials are most accurate.
        Vector256<float> f = Vector256.ConvertToSingle((angleBits >> 8).AsInt32()) * Vector256.Create(SeededNormalMath.TwoToMinus24);
        Vector256<float> x = (f * Vector256.Create(2f)) - Vector256<float>.One;
        x *= Vector256.Create(SeededNormalMath.QuarterPi);
        SinCos(x, out Vector256<float> sinX, out Vector256<float> cosX);
        Vector256<float> sin = (sinX + cosX) * Vector256.Create(SeededNormalMath.InverseSqrt2);
        Vector256<float> cos = (cosX - sinX) * Vector256.Create(SeededNormalMath.InverseSqrt2);

        Vector256<uint> cosSign = angleBits << 31;
        Vector256<uint> sinSign = (angleBits >> 1) << 31;
        cosines = ((radius * cos).AsUInt32() ^ cosSign).AsSingle();
        sines = ((radius * sin).AsUInt32() ^ sinSign).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Mix(Vector256<uint> x)
    {
        x ^= x >> 16;
        x *= Vector256.Create(SeededNormalMath.HashMultiplier1);
        x ^= x >> 15;
        x *= Vector256.Create(SeededNormalMath.HashMultiplier2);
        return x ^ (x >> 16);
    }

    /// <summary>Natural log of positive normal floats: exponent times ln 2 plus an atanh series for the mantissa.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Log(Vector256<float> value)
    {
        Vector256<int> bits = value.AsInt32();
        Vector256<int> exponent = (bits >> 23) - Vector256.Create(127);
        Vector256<float> mantissa = ((bits & Vector256.Create(0x007FFFFF)) | Vector256.Create(0x3F800000)).AsSingle();

        // Centre the mantissa on 1 ([sqrt(1/2), sqrt(2))) so the series converges fast.
        Vector256<float> large = Vector256.GreaterThan(mantissa, Vector256.Create(SeededNormalMath.Sqrt2));
        mantissa = Vector256.ConditionalSelect(large, mantissa * Vector256.Create(0.5f), mantissa);
        Vector256<float> e = Vector256.ConvertToSingle(exponent) + (large & Vector256<float>.One);

        Vector256<float> s = (mantissa - Vector256<float>.One) / (mantissa + Vector256<float>.One);
        Vector256<float> s2 = s * s;
        Vector256<float> series = Vector256.Create(SeededNormalMath.Log9);
        series = (series * s2) + Vector256.Create(SeededNormalMath.Log7);
        series = (series * s2) + Vector256.Create(SeededNormalMath.Log5);
        series = (series * s2) + Vector256.Create(SeededNormalMath.Log3);
        series = (series * s2) + Vector256<float>.One;
        return (e * Vector256.Create(SeededNormalMath.Ln2)) + (Vector256.Create(2f) * s * series);
    }

    /// <summary>Sine and cosine by Taylor polynomials, accurate for |x| ≤ pi/4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void SinCos(Vector256<float> x, out Vector256<float> sin, out Vector256<float> cos)
    {
        Vector256<float> x2 = x * x;
        Vector256<float> s = Vector256.Create(SeededNormalMath.Sin9);
        s = (s * x2) + Vector256.Create(SeededNormalMath.Sin7);
        s = (s * x2) + Vector256.Create(SeededNormalMath.Sin5);
        s = (s * x2) + Vector256.Create(SeededNormalMath.Sin3);
        s = (s * x2) + Vector256<float>.One;
        sin = s * x;

        Vector256<float> c = Vector256.Create(SeededNormalMath.Cos10);
        c = (c * x2) + Vector256.Create(SeededNormalMath.Cos8);
        c = (c * x2) + Vector256.Create(SeededNormalMath.Cos6);
        c = (c * x2) + Vector256.Create(SeededNormalMath.Cos4);
        c = (c * x2) + Vector256.Create(SeededNormalMath.Cos2);
        cos = (c * x2) + Vector256<float>.One;
    }
}

/// <summary>The four 32-bit keys of one generator stream, derived from a seed and a tensor name.</summary>
internal readonly record struct StreamKey(uint K0, uint K1, uint K2, uint K3)
{
    /// <summary>Keys for tensor <paramref name="name"/> under <paramref name="seed"/>: SplitMix64 of the seed mixed with FNV-1a of the name.</summary>
    public static StreamKey For(ulong seed, string name)
    {
        ulong hash = 0xcbf29ce484222325;
        foreach (char c in name)
        {
            hash = (hash ^ c) * 0x100000001b3;
        }

        ulong state = seed ^ hash;
        ulong a = SplitMix64(ref state);
        ulong b = SplitMix64(ref state);
        return new StreamKey((uint)a, (uint)(a >> 32), (uint)b, (uint)(b >> 32));
    }

    private static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
