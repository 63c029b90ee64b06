using Flover.Gpu.Accelerators;
using Flover.Gpu.Sampling;

namespace Flover.GpuCheck.Checks;

/// <summary>
/// Sampling where the logits are (<see cref="Accelerator.SampleRows"/>) against the host sampler on the
/// same logits, in every mode: each case's request replays a history (so the penalties have tokens to
/// act on), then the device's id for its next token must be <see cref="RequestSampler.Sample"/>'s.
/// </summary>
internal static class SamplingChecks
{
    private const int Eos = 3;

    /// <summary>One request per case: its parameters (the seed is varied per row).</summary>
    public static IReadOnlyList<(string Name, SamplingParameters Parameters)> Cases { get; } =
    [
        ("temperature", new SamplingParameters { Temperature = 0.7f }),
        ("temperature 1.3, top-k 5", new SamplingParameters { Temperature = 1.3f, TopK = 5 }),
        ("top-p 0.9", new SamplingParameters { TopP = 0.9f }),
        ("top-k 20, top-p 0.8, temperature 0.8", new SamplingParameters { Temperature = 0.8f, TopK = 20, TopP = 0.8f }),
        ("top-k past the vocabulary, top-p 0.5", new SamplingParameters { TopK = 100_000, TopP = 0.5f }),
        ("top-k 1", new SamplingParameters { TopK = 1 }),
        ("penalties, top-k 40", new SamplingParameters { RepetitionPenalty = 1.3f, PresencePenalty = 0.5f, FrequencyPenalty = 0.25f, TopK = 40 }),
        ("logit bias and min-tokens, top-p 0.95", new SamplingParameters { Temperature = 0.9f, TopP = 0.95f, MinTokens = 64, MaxTokens = 64, LogitBias = new Dictionary<int, float> { [11] = 5f, [12] = float.NegativeInfinity, [Eos] = 2f } }),
        ("greedy with penalties", new SamplingParameters { Temperature = 0, RepetitionPenalty = 1.5f, FrequencyPenalty = 0.5f }),
        ("plain sampling with penalties", new SamplingParameters { RepetitionPenalty = 0.8f, PresencePenalty = -0.5f }),
        ("logprobs 5, top-k 10", new SamplingParameters { TopK = 10, Logprobs = 5 }),
        ("greedy, logprobs 0", new SamplingParameters { Temperature = 0, Logprobs = 0 }),
        ("logprobs 20, penalties and bias, top-p 0.7", new SamplingParameters { TopP = 0.7f, RepetitionPenalty = 1.2f, FrequencyPenalty = 0.4f, LogitBias = new Dictionary<int, float> { [2] = 3f }, Logprobs = 20 }),
    ];

    /// <summary>
    /// Samples <paramref name="seeds"/> rows of each case (plus rows of ties, signed zeros, a NaN and a
    /// fully banned row) in one launch with some rows not sampled; returns every row whose id, top
    /// alternatives' ids or log-probabilities differ.
    /// </summary>
    public static IReadOnlyList<string> Compare(Accelerator accelerator, int rowWidth, int candidates, int seeds)
    {
        var random = new Random(22);
        var rows = new List<(string Name, RequestSampler Sampler, float[] Logits)>();
        foreach ((string name, SamplingParameters parameters) in Cases)
        {
            for (int s = 0; s < seeds; s++)
            {
                rows.Add((name, Sampler(parameters with { Seed = (ulong)(1000 + s) }, candidates, random), Logits(random, rowWidth, candidates)));
            }
        }

        float[] ties = Logits(random, rowWidth, candidates);
        ties.AsSpan(0, candidates).Fill(0f);
        ties[5] = ties[9] = ties[40] = 2f;
        ties[7] = -0f;
        rows.Add(("ties and signed zeros, top-k 6", Sampler(new SamplingParameters { TopK = 6, Seed = 5 }, candidates, random), ties));
        float[] nan = Logits(random, rowWidth, candidates);
        nan[candidates / 2] = nan[candidates - 1] = float.NaN;
        rows.Add(("a NaN", Sampler(new SamplingParameters { TopP = 0.5f }, candidates, random), nan));
        var banAll = Enumerable.Range(0, candidates).ToDictionary(t => t, _ => float.NegativeInfinity);
        rows.Add(("everything banned", Sampler(new SamplingParameters { LogitBias = banAll }, candidates, random), Logits(random, rowWidth, candidates)));

        // Every fourth row is not sampled: its group must leave its id alone.
        var specs = new RowSampling?[rows.Count * 4 / 3];
        var logits = new float[specs.Length * rowWidth];
        var expected = new SampledToken?[specs.Length];
        var names = new string[specs.Length];
        for (int r = 0, next = 0; r < specs.Length; r++)
        {
            if (r % 4 == 3 || next == rows.Count)
            {
                continue;
            }

            (string name, RequestSampler sampler, float[] row) = rows[next++];
            names[r] = name;
            specs[r] = sampler.DeviceSampling();
            row.CopyTo(logits, r * rowWidth);
            expected[r] = HostChoice(sampler, row);
        }

        using MemoryBuffer<float> deviceLogits = accelerator.Allocate<float>(logits.Length);
        using MemoryBuffer<int> output = accelerator.Allocate<int>(specs.Length);
        using MemoryBuffer<float> logprobs = accelerator.Allocate<float>(specs.Length * RowSampling.LogprobsPerRow);
        using MemoryBuffer<int> topIds = accelerator.Allocate<int>(specs.Length * RowSampling.MaxTopLogprobs);
        accelerator.CopyFromCpu<float>(logits, deviceLogits.View);
        accelerator.CopyFromCpu<int>(Enumerable.Repeat(-77, specs.Length).ToArray(), output.View);
        accelerator.SampleRows(deviceLogits.View, rowWidth, specs, output.View, logprobs.View, topIds.View);
        var actual = new int[specs.Length];
        var actualLogprobs = new float[specs.Length * RowSampling.LogprobsPerRow];
        var actualTop = new int[specs.Length * RowSampling.MaxTopLogprobs];
        accelerator.CopyToCpu(output.View, actual);
        accelerator.CopyToCpu(logprobs.View, actualLogprobs);
        accelerator.CopyToCpu(topIds.View, actualTop);
        var wrong = new List<string>();
        for (int r = 0; r < specs.Length; r++)
        {
            int want = expected[r]?.TokenId ?? -77;
            if (actual[r] != want)
            {
                wrong.Add($"row {r} ({names[r] ?? "not sampled"}): device {actual[r]}, host {want}");
            }
            else if (expected[r] is { Logprob: float chosen, TopLogprobs: { } top }
                && LogprobsDiffer(chosen, top, actualLogprobs.AsSpan(r * RowSampling.LogprobsPerRow), actualTop.AsSpan(r * RowSampling.MaxTopLogprobs)) is { } difference)
            {
                wrong.Add($"row {r} ({names[r]}): {difference}");
            }
        }

        return wrong;
    }

    /// <summary>
    /// Where the device's log-probabilities differ from the host's, or null. The ids must be equal; each
    /// value within 2 units of its float's last place: both are (float)(v − (max + ln Σ exp(v' − max)))
    /// computed in double, the device's sum in its group's order instead of index order (a relative
    /// difference of a few 2⁻⁵³, far below a float's 2⁻²⁴) and with the device's own exp and ln, so the
    /// rounding to float can land one place apart.
    /// </summary>
    private static string? LogprobsDiffer(float chosen, IReadOnlyList<TokenLogprob> top, ReadOnlySpan<float> logprobs, ReadOnlySpan<int> topIds)
    {
        if (!Close(chosen, logprobs[0]))
        {
            return $"chosen logprob device {logprobs[0]:R}, host {chosen:R}";
        }

        for (int i = 0; i < top.Count; i++)
        {
            if (top[i].TokenId != topIds[i] || !Close(top[i].Logprob, logprobs[1 + i]))
            {
                return $"top {i}: device {topIds[i]} {logprobs[1 + i]:R}, host {top[i].TokenId} {top[i].Logprob:R}";
            }
        }

        return null;
    }

    /// <summary>Whether a device log-probability is within two units of the last place of the host's.</summary>
    internal static bool Close(float host, float device) =>
        host == device || Math.Abs(host - device) <= 2 * (MathF.BitIncrement(Math.Abs(host)) - Math.Abs(host));

    /// <summary>The host sampler's token, or its error as the device reports it (−2 − i for a NaN at i, −1 for all banned).</summary>
    private static SampledToken HostChoice(RequestSampler sampler, float[] row)
    {
        try
        {
            return sampler.Sample(row);
        }
        catch (Gpu.FloverException error) when (error.Message.Contains("NaN", StringComparison.Ordinal))
        {
            return new SampledToken(-2 - Array.FindIndex(row, float.IsNaN), null, null, null);
        }
        catch (Gpu.FloverException)
        {
            return new SampledToken(-1, null, null, null);
        }
    }

    /// <summary>A request with a prompt and a replayed history of repeated tokens (the penalties' material).</summary>
    private static RequestSampler Sampler(SamplingParameters parameters, int candidates, Random random)
    {
        int[] prompt = [.. Enumerable.Range(0, 12).Select(_ => random.Next(candidates))];
        var sampler = new RequestSampler(parameters, candidates, Eos, prompt);
        for (int i = 0; i < 6; i++)
        {
            sampler.Replay(prompt[i % 4] == Eos ? Eos + 1 : prompt[i % 4]);
        }

        return sampler;
    }

    /// <summary>A row of logits spread like a model's (a few likely tokens), with a huge value past the candidates that must never be chosen.</summary>
    private static float[] Logits(Random random, int rowWidth, int candidates)
    {
        var row = new float[rowWidth];
        for (int i = 0; i < rowWidth; i++)
        {
            row[i] = (float)((random.NextDouble() * 6) - 3) * (random.Next(8) == 0 ? 2.5f : 1f);
        }

        if (rowWidth > candidates)
        {
            row[candidates] = 1000f;
        }

        return row;
    }
}
