using System.Diagnostics;
using Akka.Actor;
using Flover.Actors.Inference;
using Flover.Actors.Inference.Sharding;
using Flover.Gpu;
using Flover.Gpu.Sampling;
using Flover.Gpu.Tokenization;

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
/// Runs a workload through the engine itself: an <see cref="InferenceEngine"/> whose decode loop
/// drives the scheduler over the model's shard actors, exactly as <c>serve</c> runs (no copy of the
/// loop). Requests are sent as <see cref="Generate"/> messages at their arrival times (real time,
/// from the run's start), each to a collector actor of its own that timestamps its tokens as they
/// are delivered; the loop fuses whatever arrived at its next iteration. The scheduler is wrapped
/// in a <see cref="RecordingScheduler"/> for the per-iteration counters.
/// </summary>
internal static class BenchDriver
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromHours(2);

    /// <summary>Runs <paramref name="workload"/> on a fresh engine in <paramref name="system"/>; <paramref name="models"/> collects the timed models as the shards and instances make them.</summary>
    public static RunMeasurement Run(ActorSystem system, Func<IDecodeScheduler> scheduler, ShardedModel model, DecodeLoopOptions loop, List<TimedModel> models, IReadOnlyList<BenchRequest> workload, float? temperature, int seed)
    {
        RecordingScheduler? recorder = null;
        Props props = InferenceEngine.Props(() => recorder = new RecordingScheduler(scheduler(), models), model, loop, Gpt2Tokenizer.Default);
        IActorRef engine = system.ActorOf(props, $"bench-engine-{Guid.NewGuid():N}");
        try
        {
            WaitUntilReady(engine);
            int count = workload.Count;
            var requests = new CollectedRequest[count];
            using var done = new CountdownEvent(count);
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < count; i++)
            {
                BenchRequest request = workload[i];
                WaitUntil(start, request.Arrival);
                var parameters = new SamplingParameters
                {
                    Temperature = temperature ?? 0,
                    Seed = (ulong)(seed * 100_000 + request.Id),
                    MaxTokens = request.OutputTokens,
                    IgnoreEos = true,
                };
                requests[i] = new CollectedRequest(start);
                IActorRef collector = system.ActorOf(Props.Create(() => new RequestCollector(requests[i], done)));
                engine.Tell(new Generate(request.Prompt, parameters), collector);
            }

            if (!done.Wait(RunTimeout))
            {
                throw new FloverException($"The {recorder?.Kind} scheduler did not finish the workload within {RunTimeout.TotalHours:F0} hours.");
            }

            for (int i = 0; i < count; i++)
            {
                if (requests[i].Outcome is { } outcome)
                {
                    throw new FloverException($"Request {workload[i].Id} ended with {outcome} under the {recorder!.Kind} scheduler.");
                }
            }

            RecordingScheduler r = recorder!;
            var timings = workload.Select((w, i) => new RequestTiming(w.Arrival.TotalSeconds, requests[i].FirstToken, requests[i].LastToken, requests[i].TokenIds.Count)).ToList();
            return new RunMeasurement(
                timings,
                r.Iterations,
                r.Iterations == 0 ? 0 : (double)r.LiveRows / r.Iterations,
                r.PeakSlots,
                Seconds(r.IterationTicks),
                Seconds(r.ModelTicks),
                r.Shuffles,
                r.ShuffleMoves,
                Seconds(r.CopyTicks),
                [.. requests.Select(c => c.TokenIds)]);
        }
        finally
        {
            // Stopping the engine stops its loop and shards (they free their models) before the next run.
            engine.GracefulStop(TimeSpan.FromMinutes(1)).GetAwaiter().GetResult();
        }
    }

    private static void WaitUntilReady(IActorRef engine)
    {
        var giveUp = Stopwatch.StartNew();
        while (true)
        {
            EngineStatus status = engine.Ask<EngineStatus>(ProbeEngine.Instance, TimeSpan.FromMinutes(1)).GetAwaiter().GetResult();
            if (status.Stalled is null)
            {
                return;
            }

            if (giveUp.Elapsed > TimeSpan.FromMinutes(10))
            {
                throw new FloverException($"bench: the engine did not become ready: {status.Stalled}");
            }

            Thread.Sleep(5);
        }
    }

    private static double Seconds(long ticks) => (double)ticks / Stopwatch.Frequency;

    private static void WaitUntil(long start, TimeSpan arrival)
    {
        TimeSpan wait = arrival - Stopwatch.GetElapsedTime(start);
        if (wait > TimeSpan.FromMilliseconds(1.5))
        {
            Thread.Sleep(wait - TimeSpan.FromMilliseconds(1));
        }

        while (Stopwatch.GetElapsedTime(start) < arrival)
        {
            Thread.Yield();
        }
    }

    /// <summary>What one request's collector saw (written by its actor, read once the countdown is done).</summary>
    private sealed class CollectedRequest(long start)
    {
        public long Start => start;

        public double FirstToken { get; set; }

        public double LastToken { get; set; }

        public List<int> TokenIds { get; } = [];

        /// <summary>Null when it completed by length (as every bench request must), else what happened.</summary>
        public string? Outcome { get; set; }
    }

    /// <summary>A request's client: timestamps each token as it is delivered, and signals when the request ends.</summary>
    private sealed class RequestCollector : ReceiveActor
    {
        public RequestCollector(CollectedRequest request, CountdownEvent done)
        {
            Receive<Token>(token =>
            {
                double now = Stopwatch.GetElapsedTime(request.Start).TotalSeconds;
                if (token.Index == 0)
                {
                    request.FirstToken = now;
                }

                request.LastToken = now;
                request.TokenIds.Add(token.TokenId);
            });
            Receive<Completed>(completed =>
            {
                request.Outcome = completed.FinishReason == FinishReason.Length ? null : $"{completed.FinishReason} {completed.Error}";
                done.Signal();
                Context.Stop(Self);
            });
            Receive<Rejected>(rejected =>
            {
                request.Outcome = $"a rejection: {rejected.Reason} (raise flover.engine.max-waiting?)";
                done.Signal();
                Context.Stop(Self);
            });
        }
    }
}
