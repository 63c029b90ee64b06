using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.Gpu.Sampling;

namespace Flover.GpuCheck.Checks;

/// <summary>
/// Sampled requests prefilled and decoded together with their tokens chosen on the device (<see cref="RequestSampler.NextRow"/>)
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
        new() { Temperature = 0.9f, TopK = 30, Logprobs = 3, Seed = 5 },
    ];

    /// <summary>Returns null when every token is the same and every decode row was chosen on the device, or what differed.</summary>
    public static string? Run(Func<Accelerator> open, IModelWeights weights, int tokens)
    {
        int vocabulary = weights.Config.VocabularySize;
        int[][] prompts = [[3, 14, 15, 92], [27, 18], [1, 41, 42, 13, 56], [9, 8, 7], [60, 2]];
        prompts = [.. prompts.Select(p => p.Select(t => t % vocabulary).ToArray())];
        SamplingParameters[] requests = [.. Requests.Select(r => r with { MaxTokens = tokens, IgnoreEos = true })];
        int capacity = prompts.Max(p => p.Length) + tokens;
        using Accelerator accelerator = open();
        var alone = new List<SampledToken>[prompts.Length];
        for (int i = 0; i < prompts.Length; i++)
        {
            using var model = new Gpt2Model(accelerator, weights, new Gpt2ModelOptions(SlotCount: 1, SlotCapacity: capacity, MaxRowsPerStep: 8));
            var sampler = new RequestSampler(requests[i], vocabulary, 0, prompts[i]);
            alone[i] = [sampler.Sample(model.Prefill([new PrefillPrompt(0, prompts[i])]).Row(0))];
            while (sampler.Finish is null)
            {
                alone[i].Add(sampler.Sample(model.Decode([new DecodeRow(0, prompts[i].Length + alone[i].Count - 1, alone[i][^1].TokenId)]).Row(0)));
            }
        }

        using var fused = new Gpt2Model(accelerator, weights, new Gpt2ModelOptions(SlotCount: prompts.Length, SlotCapacity: capacity, MaxRowsPerStep: 8));
        RequestSampler[] samplers = [.. requests.Select((r, i) => new RequestSampler(r, vocabulary, 0, prompts[i]))];
        // The first token too is chosen on the device, from the prompt's last row.
        ModelLogits first = fused.Prefill([.. prompts.Select((p, i) => new PrefillPrompt(i, p, Sampling: samplers[i].DeviceSampling()))]);
        List<SampledToken>[] together = [.. samplers.Select((s, i) => new List<SampledToken> { s.Accept(first, i) })];
        if (Enumerable.Range(0, prompts.Length).Any(i => !first.IsChosenOnDevice(i)))
        {
            return "a prompt's first token was not chosen on the device";
        }

        while (samplers.Any(s => s.Finish is null))
        {
            int[] live = [.. Enumerable.Range(0, samplers.Length).Where(i => samplers[i].Finish is null)];
            ModelLogits logits = fused.Decode([.. live.Select(i => samplers[i].NextRow(i, prompts[i].Length + together[i].Count - 1, together[i][^1].TokenId))]);
            for (int r = 0; r < live.Length; r++)
            {
                if (!logits.IsChosenOnDevice(r))
                {
                    return $"request {live[r]}'s row was not chosen on the device";
                }

                together[live[r]].Add(samplers[live[r]].Accept(logits, r));
            }
        }

        for (int i = 0; i < prompts.Length; i++)
        {
            for (int t = 0; t < alone[i].Count; t++)
            {
                if (t >= together[i].Count || !Same(alone[i][t], together[i][t]))
                {
                    return $"request {i}: alone [{string.Join(", ", alone[i].Select(Describe))}], together on the device [{string.Join(", ", together[i].Select(Describe))}]";
                }
            }
        }

        return null;
    }

    /// <summary>The same token with the same top ids, its log-probabilities within <see cref="SamplingChecks.Close"/>'s two float places.</summary>
    private static bool Same(SampledToken alone, SampledToken together) =>
        alone.TokenId == together.TokenId
        && (alone.Logprob is null) == (together.Logprob is null)
        && (alone.Logprob is not float logprob || SamplingChecks.Close(logprob, together.Logprob!.Value))
        && (alone.TopLogprobs ?? []).Select(t => t.TokenId).SequenceEqual((together.TopLogprobs ?? []).Select(t => t.TokenId))
        && (alone.TopLogprobs ?? []).Zip(together.TopLogprobs ?? []).All(pair => SamplingChecks.Close(pair.First.Logprob, pair.Second.Logprob));

    private static string Describe(SampledToken token) => token.Logprob is float logprob ? $"{token.TokenId} ({logprob:R})" : $"{token.TokenId}";
}
