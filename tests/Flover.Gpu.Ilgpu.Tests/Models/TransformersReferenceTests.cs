using System.Text.Json;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.GpuCheck.Checks;

namespace Flover.Gpu.Ilgpu.Tests.Models;

/// <summary>
/// The ILGPU accelerator (on ILGPU's CPU accelerator) against Hugging Face transformers' own float64
/// logits for a small random GPT-2 (TestData/gpt2-small-random, see its README).
/// </summary>
public sealed class TransformersReferenceTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "TestData", "gpt2-small-random");

    [Fact]
    public void Logits_of_every_prompt_position_and_greedy_tokens_match_transformers()
    {
        using JsonDocument reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "reference-logits.json")));
        using IModelWeights weights = Gpt2Checkpoint.Load(Folder);
        using var accelerator = Oracle.Open();
        using var model = new Gpt2Model(accelerator, weights, new Gpt2ModelOptions(SlotCount: 1, SlotCapacity: 48, MaxRowsPerStep: 32));
        foreach (JsonElement item in reference.RootElement.GetProperty("cases").EnumerateArray())
        {
            int[] prompt = [.. item.GetProperty("prompt").EnumerateArray().Select(t => t.GetInt32())];
            float[][] expected = [.. item.GetProperty("logits").EnumerateArray().Select(row => row.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray())];
            int[] greedy = [.. item.GetProperty("greedy").EnumerateArray().Select(t => t.GetInt32())];

            ModelLogits logits = model.Prefill([new PrefillPrompt(0, prompt, 0, LogitsSelection.All)]);
            float[][] actual = [.. Enumerable.Range(0, logits.RowCount).Select(r => logits.Row(r).ToArray())];
            Assert.InRange(Compare.WorstRow(actual, expected), 0, 1e-5);

            var tokens = new List<int> { Compare.ArgMax(actual[^1]) };
            while (tokens.Count < greedy.Length)
            {
                tokens.Add(Compare.ArgMax(model.Decode([new DecodeRow(0, prompt.Length + tokens.Count - 1, tokens[^1])]).Row(0)));
            }

            Assert.Equal(greedy, tokens);
        }
    }
}
