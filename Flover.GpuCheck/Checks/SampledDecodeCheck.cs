using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.Gpu.Sampling;

namespace Flover.GpuCheck.Checks;

/// <summary>
/// Sampled requests decoded together with their tokens chosen on the device (<see cref="RequestSampler.NextRow"/>)
/// give every token each gets alone with its logits sampled on the host: the model's rows are batch
/// invariant, so the device sampler sees the logits the host sampler sees alone.
/// </summary>
internal static class SampledDecodeCheck
{
    private static readonly SamplingParameters[] Requests =
    [
        new() { Temperature = 0.8f, TopK = 20, Seed = 1 },
        new() { TopP = 0.9f, RepetitionPenalty = 1.3f, Seed = 2 },
        new() { Temperature = 1.2f, PresencePenalty = 0.5f, FrequencyPenalty = 0.3f, Seed = 3 },
        new() { Temperature = 0, RepetitionPenalty = 1.5f, LogitBias = new Dictionary<int, float> { [4] = 1f }, Seed = 4 },
    ];

    /// <summary>Returns null when every token is the same and every decode row was chosen on the device, or what differed.</summary>
    public static string? Run(Func<Accelerator> open, IModelWeights weights, int tokens)
    {
        int vocabulary = weights.Config.VocabularySize;
        int[][] prompts = [[3, 14, 15, 92], [27, 18], [1, 41, 42, 13, 56], [9, 8, 7]];
        prompts = [.. prompts.Select(p => p.Select(t => t % vocabulary).ToArray())];
        SamplingParameters[] requests = [.. Requests.Select(r => r with { MaxTokens = tokens, IgnoreEos = true })];
        int capacity = prompts.Max(p => p.Length) + tokens;
        using Accelerator accelerator = open();
        var alone = new List<int>[prompts.Length];
        for (int i = 0; i < prompts.Length; i++)
        {
            using var model = new Gpt2Model(accelerator, weights, new Gpt2ModelOptions(SlotCount: 1, SlotCapacity: capacity, MaxRowsPerStep: 8));
            var sampler = new RequestSampler(requests[i], vocabulary, 0, prompts[i]);
            alone[i] = [sampler.Sample(model.Prefill([new PrefillPrompt(0, prompts[i])]).Row(0)).TokenId];
            while (sampler.Finish is null)
            {
                alone[i].Add(sampler.Sample(model.Decode([new DecodeRow(0, prompts[i].Length + alone[i].Count - 1, alone[i][^1])]).Row(0)).TokenId);
            }
        }

        using var fused = new Gpt2Model(accelerator, weights, new Gpt2ModelOptions(SlotCount: 4, SlotCapacity: capacity, MaxRowsPerStep: 8));
        RequestSampler[] samplers = [.. requests.Select((r, i) => new RequestSampler(r, vocabulary, 0, prompts[i]))];
        ModelLogits first = fused.Prefill([.. prompts.Select((p, i) => new PrefillPrompt(i, p))]);
        List<int>[] together = [.. samplers.Select((s, i) => new List<int> { s.Sample(first.Row(i)).TokenId })];
        while (samplers.Any(s => s.Finish is null))
        {
            int[] live = [.. Enumerable.Range(0, samplers.Length).Where(i => samplers[i].Finish is null)];
            ModelLogits logits = fused.Decode([.. live.Select(i => samplers[i].NextRow(i, prompts[i].Length + together[i].Count - 1, together[i][^1]))]);
            for (int r = 0; r < live.Length; r++)
            {
                if (!logits.IsChosenOnDevice(r))
                {
                    return $"request {live[r]}'s row was not chosen on the device";
                }

                together[live[r]].Add(samplers[live[r]].AcceptChoice(logits.ChosenOnDevice(r)).TokenId);
            }
        }

        for (int i = 0; i < prompts.Length; i++)
        {
            if (!alone[i].SequenceEqual(together[i]))
            {
                return $"request {i}: alone [{string.Join(", ", alone[i])}], together on the device [{string.Join(", ", together[i])}]";
            }
        }

        return null;
    }
}
