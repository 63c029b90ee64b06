using System.Runtime.Intrinsics;
using Flover.Gpu.Models;

namespace Flover.Gpu.Tests.Models;

public sealed class SeededNormalTests
{
    private static readonly StreamKey s_key = StreamKey.For(1234, "wte.weight");

    [Fact]
    public void A_chunk_starting_mid_stream_equals_the_same_slice_of_the_whole_stream()
    {
        var whole = new float[1000];
        var tail = new float[1000 - 160];

        SeededNormal.Fill(whole, 0, s_key, 1f);
        SeededNormal.Fill(tail, 160, s_key, 1f);

        Assert.Equal(whole[160..], tail);
    }

    [Fact]
    public void A_short_final_block_holds_the_start_of_the_full_block()
    {
        var full = new float[32];
        var cut = new float[21];

        SeededNormal.Fill(full, 0, s_key, 1f);
        SeededNormal.Fill(cut, 0, s_key, 1f);

        Assert.Equal(full[..21], cut);
    }

    [Fact]
    public void A_chunk_off_the_block_grid_is_refused()
    {
        Assert.Throws<ArgumentException>(() => SeededNormal.Fill(new float[16], 8, s_key, 1f));
    }

    [Fact]
    public void The_log_polynomial_matches_Math_Log_over_the_unit_interval()
    {
        for (int k = 1; k <= 1 << 24; k += 4099)
        {
            float u = k / 16777216f;
            float log = SeededNormal.Log(Vector256.Create(u)).GetElement(0);
            Assert.True(Math.Abs(log - Math.Log(u)) <= 3e-7 * Math.Max(1, Math.Abs(Math.Log(u))), $"ln({u}) = {Math.Log(u)}, got {log}");
        }
    }

    [Fact]
    public void The_sine_and_cosine_polynomials_match_Math_within_a_quarter_turn()
    {
        for (int k = -1000; k <= 1000; k++)
        {
            float x = k * (MathF.PI / 4) / 1000;
            SeededNormal.SinCos(Vector256.Create(x), out Vector256<float> sin, out Vector256<float> cos);
            Assert.InRange(sin.GetElement(0) - Math.Sin(x), -2e-7, 2e-7);
            Assert.InRange(cos.GetElement(0) - Math.Cos(x), -2e-7, 2e-7);
        }
    }

    [Fact]
    public void Different_tensor_names_give_different_streams()
    {
        var a = new float[64];
        var b = new float[64];

        SeededNormal.Fill(a, 0, StreamKey.For(1, "h.0.attn.c_attn.weight"), 1f);
        SeededNormal.Fill(b, 0, StreamKey.For(1, "h.1.attn.c_attn.weight"), 1f);

        Assert.NotEqual(a, b);
    }
}
