using System.Globalization;
using Flover.Gpu;

namespace Flover.Host.Bench;

/// <summary>How output lengths are drawn: one fixed length, or uniform in [Min, Max].</summary>
/// <param name="Min">The shortest length.</param>
/// <param name="Max">The longest length (equal to <paramref name="Min"/> when fixed).</param>
internal sealed record OutputLengthSpec(int Min, int Max)
{
    public bool IsFixed => Min == Max;

    /// <summary>Parses <c>64</c> or <c>uniform:16:256</c>.</summary>
    /// <exception cref="FloverException">The text is neither.</exception>
    public static OutputLengthSpec Parse(string text)
    {
        const string Hint = "--output-len takes a length such as 64 or uniform:MIN:MAX such as uniform:16:256";
        string[] parts = text.Trim().Split(':');
        if (parts.Length == 1 && Positive(parts[0]) is int fixedLength)
        {
            return new OutputLengthSpec(fixedLength, fixedLength);
        }

        if (parts.Length == 3 && parts[0] == "uniform" && Positive(parts[1]) is int min && Positive(parts[2]) is int max)
        {
            return min <= max ? new OutputLengthSpec(min, max) : throw new FloverException($"{Hint}; in '{text}' MIN exceeds MAX.");
        }

        throw new FloverException($"{Hint}, not '{text}'.");
    }

    public override string ToString() => IsFixed ? Min.ToString(CultureInfo.InvariantCulture) : $"uniform:{Min}:{Max}";

    private static int? Positive(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0 ? value : null;
}

/// <summary>What the workload generator needs.</summary>
/// <param name="Arrival">constant or poisson.</param>
/// <param name="IntervalMs">The constant interval, or the Poisson process's mean inter-arrival time, in ms.</param>
/// <param name="Requests">How many requests.</param>
/// <param name="PromptLength">Tokens per prompt.</param>
/// <param name="OutputLength">Tokens each request generates (EOS ignored).</param>
/// <param name="VocabularySize">Prompt tokens are drawn below this.</param>
internal sealed record WorkloadSpec(string Arrival, double IntervalMs, int Requests, int PromptLength, OutputLengthSpec OutputLength, int VocabularySize);

/// <summary>One generated request: when it is injected, its prompt and how many tokens it generates.</summary>
/// <param name="Id">1-based.</param>
/// <param name="Arrival">The scheduled injection time, from the start of the run.</param>
/// <param name="Prompt">Prompt token ids.</param>
/// <param name="OutputTokens">Tokens it generates.</param>
internal sealed record BenchRequest(long Id, TimeSpan Arrival, int[] Prompt, int OutputTokens);

/// <summary>
/// The bench's workload: arrival times, prompts and output lengths, all a function of (spec,
/// seed) alone, so every scheduler of a seed sees the same requests. The first request arrives
/// at 0; constant arrivals are <c>interval</c> apart, Poisson ones exponentially distributed
/// with mean <c>interval</c>.
/// </summary>
internal static class WorkloadGenerator
{
    public static IReadOnlyList<BenchRequest> Generate(WorkloadSpec spec, int seed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        // Separate streams, so that changing the prompt length does not change the arrivals.
        var arrivals = new Random(Mix(seed, 1));
        var prompts = new Random(Mix(seed, 2));
        var lengths = new Random(Mix(seed, 3));
        var requests = new List<BenchRequest>(spec.Requests);
        double atMs = 0;
        for (int i = 0; i < spec.Requests; i++)
        {
            if (i > 0)
            {
                atMs += spec.Arrival == "poisson" ? -spec.IntervalMs * Math.Log(1 - arrivals.NextDouble()) : spec.IntervalMs;
            }

            int[] prompt = [.. Enumerable.Range(0, spec.PromptLength).Select(_ => prompts.Next(spec.VocabularySize))];
            int output = lengths.Next(spec.OutputLength.Min, spec.OutputLength.Max + 1);
            requests.Add(new BenchRequest(i + 1, TimeSpan.FromMilliseconds(atMs), prompt, output));
        }

        return requests;
    }

    private static int Mix(int seed, int stream) => unchecked((seed * 1_000_003) ^ (stream * 7919));
}
