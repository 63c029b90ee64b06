using System.Text.Json;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Checkpoints.Llama;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.Gpu.Models.Llama;

namespace Flover.GpuCheck.Checks;

/// <summary>
/// A device against Hugging Face transformers' own float64 logits of a small random GPT-2 or LLaMA
/// (the folder holds the checkpoint and <c>reference-logits.json</c>; see its README): every prompt
/// position's logits, and the greedy continuation.
/// </summary>
internal static class TransformersReference
{
    /// <summary>The worst row's relative L2 distance over all cases, and whether every greedy continuation matched.</summary>
    public static (double WorstRelativeL2, bool GreedyEqual, int Cases) Compare(Func<Accelerator> open, string folder)
    {
        using IModelWeights weights = Gpt2Checkpoint.Load(folder);
        using Accelerator accelerator = open();
        using var model = new Gpt2Model(accelerator, weights, new Gpt2ModelOptions(SlotCount: 1, SlotCapacity: 48, MaxRowsPerStep: 32));
        return Compare(model, folder);
    }

    /// <summary>The same for a LLaMA checkpoint transformers wrote, with its KV cache in <paramref name="kvDType"/>.</summary>
    public static (double WorstRelativeL2, bool GreedyEqual, int Cases) CompareLlama(Func<Accelerator> open, string folder, TensorDType kvDType = TensorDType.F32)
    {
        using LlamaWeights weights = LlamaCheckpoint.Load(folder);
        using Accelerator accelerator = open();
        using var model = new LlamaModel(accelerator, weights, new LlamaModelOptions(SlotCount: 1, SlotCapacity: 48, MaxRowsPerStep: 32) { KvDType = kvDType });
        return Compare(model, folder);
    }

    private static (double WorstRelativeL2, bool GreedyEqual, int Cases) Compare(IModel model, string folder)
    {
        using JsonDocument reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "reference-logits.json")));
        double worst = 0;
        bool greedyEqual = true;
        int cases = 0;
        foreach (JsonElement item in reference.RootElement.GetProperty("cases").EnumerateArray())
        {
            // LLaMA references hold float32 and float64 cases: the float64 ones are the ground truth.
            if (item.TryGetProperty("dtype", out JsonElement dtype) && dtype.GetString() != "float64")
            {
                continue;
            }

            int[] prompt = [.. item.GetProperty("prompt").EnumerateArray().Select(t => t.GetInt32())];
            float[][] expected = [.. item.GetProperty("logits").EnumerateArray().Select(row => row.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray())];
            int[] greedy = [.. item.GetProperty("greedy").EnumerateArray().Select(t => t.GetInt32())];

            ModelLogits logits = model.Prefill([new PrefillPrompt(0, prompt, 0, LogitsSelection.All)]);
            float[][] actual = [.. Enumerable.Range(0, logits.RowCount).Select(r => logits.Row(r).ToArray())];
            worst = Math.Max(worst, Checks.Compare.WorstRow(actual, expected));

            var tokens = new List<int> { Checks.Compare.ArgMax(actual[^1]) };
            while (tokens.Count < greedy.Length)
            {
                tokens.Add(Checks.Compare.ArgMax(model.Decode([new DecodeRow(0, prompt.Length + tokens.Count - 1, tokens[^1])]).Row(0)));
            }

            greedyEqual &= tokens.SequenceEqual(greedy);
            cases++;
        }

        return (worst, greedyEqual, cases);
    }
}
