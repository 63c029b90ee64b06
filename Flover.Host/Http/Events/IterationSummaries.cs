using Flover.Actors.Inference;

namespace Flover.Host.Http.Events;

/// <summary>Joins consecutive <see cref="IterationSummary"/> intervals into one, for viewers that get fewer events than the loop publishes.</summary>
internal static class IterationSummaries
{
    /// <summary>
    /// The interval from <paramref name="earlier"/>'s start to <paramref name="later"/>'s end:
    /// counts summed, step sizes and moves in order (step sizes capped as one summary caps them),
    /// the mean weighted by iterations, and the slots, queue and running counts as the later one ends.
    /// </summary>
    public static IterationSummary Merge(IterationSummary earlier, IterationSummary later)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        ArgumentNullException.ThrowIfNull(later);
        int iterations = earlier.Iterations + later.Iterations;
        long tokens = earlier.Tokens + later.Tokens;
        double seconds = (later.End - earlier.Start).TotalSeconds;
        return later with
        {
            Start = earlier.Start,
            Iterations = iterations,
            RowsPerStep = [.. earlier.RowsPerStep.Concat(later.RowsPerStep).Take(IterationSummary.MaxRowsPerStep)],
            MaxRows = Math.Max(earlier.MaxRows, later.MaxRows),
            MeanRows = iterations == 0 ? 0 : ((earlier.MeanRows * earlier.Iterations) + (later.MeanRows * later.Iterations)) / iterations,
            Tokens = tokens,
            TokensPerSecond = seconds > 0 ? tokens / seconds : 0,
            Moves = [.. earlier.Moves, .. later.Moves],
        };
    }
}
