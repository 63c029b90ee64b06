using Flover.GpuCheck.Checks;

namespace Flover.Gpu.Ilgpu.Tests.Models;

/// <summary>
/// The ILGPU accelerator (on ILGPU's CPU accelerator) against Hugging Face transformers' own float64
/// logits for a small random GPT-2 (TestData/gpt2-small-random, see its README).
/// </summary>
public sealed class TransformersReferenceTests
{
    public static string Folder { get; } = Path.Combine(AppContext.BaseDirectory, "TestData", "gpt2-small-random");

    [Fact]
    public void Logits_of_every_prompt_position_and_greedy_tokens_match_transformers()
    {
        (double worst, bool greedyEqual, int cases) = TransformersReference.Compare(Oracle.Open, Folder);

        Assert.Equal(3, cases);
        Assert.InRange(worst, 0, 1e-5);
        Assert.True(greedyEqual);
    }
}
