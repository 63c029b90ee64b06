using Flover.Gpu.Accelerators;
using Flover.Gpu.Sampling;

namespace Flover.Gpu.Tests.Accelerators;

/// <summary>The CPU accelerator's greedy choice (<see cref="Accelerator.ArgMaxRows"/>) against the host sampler's.</summary>
public sealed class GreedyChoiceTests
{
    private const int Width = 300;
    private const int Candidates = 257;

    [Fact]
    public void Greedy_choice_is_the_samplers_token_on_random_rows_ties_and_masked_ids()
    {
        var random = new Random(22);
        float[] logits = [.. Enumerable.Range(0, 8 * Width).Select(_ => (float)(random.NextDouble() * 16) - 8)];
        logits[(1 * Width) + 40] = logits[(1 * Width) + 200] = 50f;
        logits[(2 * Width) + 0] = logits[(2 * Width) + 1] = 50f;
        logits[(3 * Width) + Candidates] = 1000f;
        logits[(4 * Width) + 7] = -0f;
        logits.AsSpan(4 * Width, Width).Fill(-0f);
        logits[(4 * Width) + 9] = 0f;

        int[] chosen = ArgMax(logits, 8);

        for (int row = 0; row < 8; row++)
        {
            var sampler = new RequestSampler(new SamplingParameters { Temperature = 0 }, Candidates, eosTokenId: 0, []);
            Assert.Equal(sampler.Sample(logits.AsSpan(row * Width, Width)).TokenId, chosen[row]);
        }

        Assert.Equal(40, chosen[1]);
        Assert.Equal(0, chosen[2]);
        Assert.NotEqual(Candidates, chosen[3]);
        Assert.Equal(0, chosen[4]);
    }

    [Fact]
    public void A_row_with_a_nan_gives_its_first_nan_and_a_banned_row_minus_one_as_the_sampler_refuses_them()
    {
        float[] logits = new float[3 * Width];
        logits[(0 * Width) + 5] = float.NaN;
        logits[(0 * Width) + 3] = float.NaN;
        logits.AsSpan(Width, Width).Fill(float.NegativeInfinity);
        logits[(2 * Width) + Candidates + 1] = float.NaN;

        int[] chosen = ArgMax(logits, 3);

        Assert.Equal([-2 - 3, -1, 0], chosen);
        var sampler = new RequestSampler(new SamplingParameters { Temperature = 0 }, Candidates, eosTokenId: 0, []);
        Assert.Contains("(token 3)", Assert.Throws<FloverException>(() => sampler.Sample(logits.AsSpan(0, Width))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Candidates_beyond_the_row_are_refused()
    {
        using Accelerator accelerator = new AcceleratorContext(new EngineOptions(1)).CreateDefault();
        using MemoryBuffer<float> logits = accelerator.Allocate<float>(Width);
        using MemoryBuffer<int> output = accelerator.Allocate<int>(1);

        Assert.Throws<ArgumentOutOfRangeException>(() => accelerator.ArgMaxRows(logits.View, 1, Width, Width + 1, output.View));
    }

    private static int[] ArgMax(float[] logits, int rows)
    {
        using Accelerator accelerator = new AcceleratorContext(new EngineOptions(2)).CreateDefault();
        using MemoryBuffer<float> buffer = accelerator.Allocate<float>(logits.Length);
        using MemoryBuffer<int> output = accelerator.Allocate<int>(rows);
        accelerator.CopyFromCpu<float>(logits, buffer.View);
        accelerator.ArgMaxRows(buffer.View, rows, Width, Candidates, output.View);
        var chosen = new int[rows];
        accelerator.CopyToCpu(output.View, chosen);
        return chosen;
    }
}
