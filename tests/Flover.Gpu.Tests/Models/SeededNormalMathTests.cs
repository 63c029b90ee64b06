using System.Security.Cryptography;
using Flover.Gpu.Models;

namespace Flover.Gpu.Tests.Models;

/// <summary>
/// The scalar form of the generator (what the device kernel runs) against the host's vector form,
/// and the host's stream pinned by a digest, so moving the arithmetic into one definition changed
/// no bit of any preset.
/// </summary>
public sealed class SeededNormalMathTests
{
    [Theory]
    [InlineData("transformer.wte.weight", 0.02f)]
    [InlineData("transformer.h.3.mlp.c_proj.weight", 0.0028284272f)]
    [InlineData("odd", 1.7f)]
    public void Scalar_pairs_equal_the_vector_lanes_bitwise(string name, float std)
    {
        StreamKey key = StreamKey.For(Gpt2Presets.DefaultSeed, name);
        var vector = new float[4099];
        SeededNormal.Fill(vector, 0, key, std);

        var scalar = new float[(vector.Length + SeededNormal.BlockSize - 1) / SeededNormal.BlockSize * SeededNormal.BlockSize];
        for (uint pair = 0; pair < scalar.Length / 2; pair++)
        {
            SeededNormalMath.Pair(pair, key.K0, key.K1, key.K2, key.K3, SeededNormalMath.RadiusScale(std), out float cosine, out float sine);
            long first = ((pair / 8) * 16) + (pair % 8);
            scalar[first] = cosine;
            scalar[first + 8] = sine;
        }

        Assert.Equal(vector.Select(BitConverter.SingleToUInt32Bits), scalar[..vector.Length].Select(BitConverter.SingleToUInt32Bits));
    }

    [Fact]
    public void The_host_stream_is_pinned_by_its_digest()
    {
        var values = new float[3 * 10_000];
        SeededNormal.Fill(values.AsSpan(0, 10_000), 0, StreamKey.For(Gpt2Presets.DefaultSeed, "transformer.wte.weight"), 0.02f);
        SeededNormal.Fill(values.AsSpan(10_000, 10_000), 160, StreamKey.For(7, "transformer.h.0.attn.c_attn.weight"), 1f);
        SeededNormal.Fill(values.AsSpan(20_000, 10_000), 0, StreamKey.For(0, "x"), 0.0028284272f);

        string digest = Convert.ToHexStringLower(SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())));

        Assert.True(digest == "276155fcbd5782c9b30e7814bfbbc84c580bc6511fc788d5d4b43179f7a60af6", digest);
    }
}
