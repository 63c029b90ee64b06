namespace Flover.Gpu.Sampling;

/// <summary>
/// Counter-based randomness (Philox4x32-10, Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
/// SC'11): the draw for a request's token i is a pure function of (seed, i). A request's tokens therefore
/// never depend on what runs beside it or which slot it has, and replaying its history after a restart
/// reproduces the same draws.
/// </summary>
public static class CounterRandom
{
    private const uint Multiplier0 = 0xD2511F53;
    private const uint Multiplier1 = 0xCD9E8D57;
    private const uint Weyl0 = 0x9E3779B9;
    private const uint Weyl1 = 0xBB67AE85;

    /// <summary>A uniform double in [0, 1) with 53 random bits: draw <paramref name="index"/> of stream <paramref name="seed"/>.</summary>
    public static double Uniform(ulong seed, long index)
    {
        (uint r0, uint r1, _, _) = Philox4x32((uint)index, (uint)((ulong)index >> 32), 0, 0, (uint)seed, (uint)(seed >> 32));
        ulong bits = ((ulong)r0 << 32) | r1;
        return (bits >> 11) * (1.0 / (1UL << 53));
    }

    /// <summary>The Philox4x32 bijection with 10 rounds of <paramref name="c0"/>..<paramref name="c3"/> under key (<paramref name="k0"/>, <paramref name="k1"/>).</summary>
    public static (uint, uint, uint, uint) Philox4x32(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (int round = 0; round < 10; round++)
        {
            if (round > 0)
            {
                k0 += Weyl0;
                k1 += Weyl1;
            }

            ulong product0 = (ulong)Multiplier0 * c0;
            ulong product1 = (ulong)Multiplier1 * c2;
            uint next0 = (uint)(product1 >> 32) ^ c1 ^ k0;
            uint next2 = (uint)(product0 >> 32) ^ c3 ^ k1;
            c1 = (uint)product1;
            c3 = (uint)product0;
            c0 = next0;
            c2 = next2;
        }

        return (c0, c1, c2, c3);
    }
}
