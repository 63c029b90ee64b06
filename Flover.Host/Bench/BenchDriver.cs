using System.Diagnostics;
using Flover.Actors.Inference;
using Flover.Gpu;
using Flover.Gpu.Models;
using Flover.Gpu.Sampling;

namespace Flover.Host.Bench;

/// <summary>What happened to one request in a run (seconds from the run's start).</summary>
/// <param name="Arrival">The scheduled injection time.</param>
/// <param name="FirstToken">When its first generated token was delivered.</param>
/// <param name="LastToken">When its last token was delivered.</param>
/// <param name="Tokens">Tokens it received.</param>
internal sealed record RequestTiming(double Arrival, double FirstToken, double LastToken, int Tokens);

/// <summary>One run of one scheduler on one workload: per-request timings and per-iteration counters.</summary>
internal sealed record RunMeasurement(
    IReadOnlyList<RequestTiming> Requests,
    int Iterations,
    double MeanLiveSequences,
    int PeakSlots,
    double IterationSeconds,
    double ModelSeconds,
    int Shuffles,
    int ShuffleMoves,
    double ShuffleSeconds,
    IReadOnlyList<List<int>> TokenIds);

/// <summary>
/// Injects a workload's requests into a scheduler at their arrival times (real time, from the
/// run's start) and steps it, on the calling thread, the way the decode loop actor does:
/// arrivals are taken between iterations, never during one. A token counts as delivered when
/// the iteration that produced it returns.
/// </summary>
internal static class BenchDriver
{
    public static RunMeasurement Run(IDecodeScheduler scheduler, ModelStepRunner? runner, IReadOnlyList<TimedModel> models, IReadOnlyList<BenchRequest> workload, float? temperature, int seed, Action<int>? progress = null)
    {
        int count = workload.Count;
        var first = new double[count];
        var last = new double[count];
        var tokenIds = Enumerable.Range(0, count).Select(_ => new List<int>()).ToList();
        int done = 0, next = 0, iterations = 0, peak = 0, shuffles = 0, moves = 0;
        long liveSum = 0, iterationTicks = 0, modelTicks = 0, copyTicks = 0;
        foreach (TimedModel model in models)
        {
            model.TakeTicks();
            model.TakeCopyTicks();
        }

        long start = Stopwatch.GetTimestamp();
        while (done < count)
        {
            double now = Stopwatch.GetElapsedTime(start).TotalSeconds;
            for (; next < count && workload[next].Arrival.TotalSeconds <= now; next++)
            {
                BenchRequest request = workload[next];
                var parameters = new SamplingParameters
                {
                    Temperature = temperature ?? 0,
                    Seed = (ulong)(seed * 100_000 + request.Id),
                    MaxTokens = request.OutputTokens,
                    IgnoreEos = true,
                };
                if (scheduler.Submit(request.Id, request.Prompt, parameters) is { } rejection)
                {
                    throw new FloverException($"The {scheduler.Kind} scheduler rejected request {request.Id}: {rejection} (raise flover.engine.max-waiting?)");
                }
            }

            if (!scheduler.HasWork || scheduler.NextStepAt is { } wake && wake > DateTimeOffset.UtcNow)
            {
                WaitUntil(start, next < count ? workload[next].Arrival : TimeSpan.MaxValue, scheduler.NextStepAt);
                continue;
            }

            peak = Math.Max(peak, scheduler.SlotsUsed);
            long stepStart = Stopwatch.GetTimestamp();
            // The shuffle actor's planner, asked between iterations as the decode loop does; its
            // plan rides in the next step.
            scheduler.CompactNow();
            IterationReport report = runner is null ? CompleteWithoutModel(scheduler) : scheduler.StepOn(runner);
            double delivered = Stopwatch.GetElapsedTime(start).TotalSeconds;
            peak = Math.Max(peak, scheduler.SlotsUsed);
            foreach (LoopToken token in report.Tokens)
            {
                int index = (int)token.RequestId - 1;
                if (token.Index == 0)
                {
                    first[index] = delivered;
                }

                last[index] = delivered;
                tokenIds[index].Add(token.Token.TokenId);
            }

            foreach (LoopFinished finished in report.Finished)
            {
                if (finished.Reason != FinishReason.Length)
                {
                    throw new FloverException($"Request {finished.RequestId} ended with {finished.Reason} under the {scheduler.Kind} scheduler: {finished.Error}");
                }

                done++;
                progress?.Invoke(done);
            }

            if (report.DecodeRows + report.PrefillTokens == 0)
            {
                continue;
            }

            iterations++;
            liveSum += report.LiveRows;
            iterationTicks += Stopwatch.GetTimestamp() - stepStart;
            // Instances run side by side: the step waited on the busiest one.
            modelTicks += models.Max(m => m.TakeTicks());
            copyTicks += models.Sum(m => m.TakeCopyTicks());
            if (report.Compaction is { IsEmpty: false } plan)
            {
                shuffles++;
                moves += plan.Moves.Count;
            }
        }

        var timings = workload.Select((r, i) => new RequestTiming(r.Arrival.TotalSeconds, first[i], last[i], tokenIds[i].Count)).ToList();
        return new RunMeasurement(
            timings,
            iterations,
            iterations == 0 ? 0 : (double)liveSum / iterations,
            peak,
            Seconds(iterationTicks),
            Seconds(modelTicks),
            shuffles,
            moves,
            Seconds(copyTicks),
            tokenIds);
    }

    /// <summary>A scheduler that runs its own model instances: its plans are empty.</summary>
    private static IterationReport CompleteWithoutModel(IDecodeScheduler scheduler)
    {
        ModelStep step = scheduler.PlanStep();
        if (!step.IsEmpty)
        {
            throw new InvalidOperationException($"The {scheduler.Kind} scheduler planned model work but asked for no model slots.");
        }

        return scheduler.CompleteStep(ModelStepResult.Empty);
    }

    private static double Seconds(long ticks) => (double)ticks / Stopwatch.Frequency;

    private static void WaitUntil(long start, TimeSpan nextArrival, DateTimeOffset? wake)
    {
        TimeSpan untilArrival = nextArrival == TimeSpan.MaxValue ? TimeSpan.MaxValue : nextArrival - Stopwatch.GetElapsedTime(start);
        TimeSpan untilWake = wake is { } at ? at - DateTimeOffset.UtcNow : TimeSpan.MaxValue;
        TimeSpan wait = untilArrival < untilWake ? untilArrival : untilWake;
        if (wait == TimeSpan.MaxValue)
        {
            throw new InvalidOperationException("The scheduler has no work, no window open and no request is left to arrive, yet requests are unfinished.");
        }

        if (wait > TimeSpan.FromMilliseconds(1.5))
        {
            Thread.Sleep(wait - TimeSpan.FromMilliseconds(1));
        }
        else if (wait > TimeSpan.Zero)
        {
            Thread.Yield();
        }
    }
}
