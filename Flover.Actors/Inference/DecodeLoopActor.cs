using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Flover.Actors.Inference.Sharding;
using Flover.Gpu.Models;

namespace Flover.Actors.Inference;

/// <summary>
/// One per model: owns a scheduler (the <see cref="FusedDecodeLoop"/>, or a baseline from
/// <see cref="SchedulerFactory"/>) and the model's shard actors, and drives one iteration at a
/// time: it asks the scheduler to plan the step, sends the plan to every shard, and becomes
/// "awaiting shards" until they answer; then the scheduler samples and the loop delivers tokens.
/// Registrations and cancellations that arrive meanwhile go into the scheduler at once and are
/// fused at the next iteration: no locks, no polling, and the loop never blocks, so it answers
/// <see cref="ProbeEngine"/> during a step too. A shard that stops (Terminated) or a step past its
/// deadline (a timer) fails the step: the scheduler re-admits the live requests from their
/// history, the collectives are aborted, and the silent shards are replaced. A shard whose
/// accelerator faulted (<see cref="Sharding.ShardDeviceFault"/>) is replaced the same way, which
/// creates its accelerator and model again; if that fails the loop stops serving.
/// </summary>
/// <remarks>
/// The scheduler is made in the constructor, on the loop's own thread: Akka evaluates the
/// arguments of a <c>Props.Create</c> expression when the Props is made, so passing the scheduler
/// itself would make it on the caller's thread.
/// </remarks>
internal sealed partial class DecodeLoopActor : ReceiveActor, IWithTimers
{
    private const string WindowTimer = "batching-window";

    private readonly IDecodeScheduler _loop;
    private readonly DecodeLoopOptions _options;
    private readonly TimeProvider _clock;
    private readonly Dictionary<long, IActorRef> _requesters = [];
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef? _shuffle;
    private readonly long _bytesPerSlot;
    private readonly EngineMetrics? _metrics;
    private readonly IterationAggregator _events;
    private bool _stepQueued;
    private long _stepQueuedAt;
    private bool _planPending;
    private DateTimeOffset _lastStepStartedAt = DateTimeOffset.MinValue;

    /// <summary>Drives the scheduler <paramref name="createScheduler"/> makes over <paramref name="model"/>'s shards.</summary>
    public DecodeLoopActor(Func<IDecodeScheduler> createScheduler, ShardedModel model, DecodeLoopOptions options, TimeProvider? clock, EngineMetrics? metrics)
    {
        _loop = createScheduler();
        _options = options;
        _metrics = metrics;
        _clock = clock ?? TimeProvider.System;
        _bytesPerSlot = model.Shape.KvBytesPerSlot;
        _events = new IterationAggregator(options.IterationEventsInterval, _clock.GetUtcNow());
        if (options.MemoryMode == Gpu.Memory.MemoryMode.Shuffle && _loop.ModelSlots > 0)
        {
            _shuffle = Context.ActorOf(Akka.Actor.Props.Create(() => new ShuffleActor()), "shuffle");
        }

        _shards = new ShardSet(model, _loop.ModelSlots);
        // Until every shard has loaded, Ready only queues: EnsureStepping waits for AllReady.
        Become(Ready);
    }

    /// <summary>Props of a loop over the scheduler <paramref name="scheduler"/> creates (on the loop's own thread, when it starts) and <paramref name="model"/>'s shards.</summary>
    public static Props Props(Func<IDecodeScheduler> scheduler, ShardedModel model, DecodeLoopOptions options, TimeProvider? clock = null, EngineMetrics? metrics = null, string dispatcher = "flover.dispatchers.decode-loop") =>
        Akka.Actor.Props.Create(() => new DecodeLoopActor(scheduler, model, options, clock, metrics)).WithDispatcher(dispatcher);

    /// <summary>The batching window's and the step deadline's timers (Akka cancels them when the actor stops).</summary>
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Starts the shards (they load their models on their own threads).</summary>
    protected override void PreStart() => _shards.StartAll(Context);

    /// <summary>Stops a baseline's instance threads; the shards, children of the loop, stop with it.</summary>
    protected override void PostStop()
    {
        (_loop as IDisposable)?.Dispose();
        base.PostStop();
    }

    /// <summary>What every state handles the same way: requests come and go, plans arrive, probes are answered.</summary>
    private void Common()
    {
        Receive<RegisterRequest>(Register);
        Receive<CancelRequest>(cancel =>
        {
            _loop.Cancel(cancel.RequestId);
            EnsureStepping();
        });
        Receive<StopSequenceFound>(stop =>
        {
            _loop.StopSequenceFound(stop.RequestId);
            EnsureStepping();
        });
        Receive<CompactionPlanned>(ApplyPlan);
        Receive<ProbeEngine>(_ => Sender.Tell(Status()));
        Receive<ShardsPlaced>(placed => _shards.Placed(Context, placed));
        Receive<ShardPlacementFailed>(OnPlacementFailed);
        Receive<RetryPlacement>(_ => OnRetryPlacement());
    }

    /// <summary>Between steps: the next <see cref="Step"/> plans one.</summary>
    private void Ready()
    {
        Common();
        Receive<Step>(_ => RunIteration());
        Receive<ShardReady>(OnShardReady);
        Receive<Terminated>(OnTerminatedBetweenSteps);
        // Late answers of a step already failed, and timers of an earlier step: nothing to do.
        Receive<ShardStepDone>(_ => { });
        Receive<ShardStepFailed>(_ => { });
        Receive<ShardDeviceFault>(_ => { });
        Receive<StepDeadline>(_ => { });
        Receive<AbortGrace>(_ => { });
    }

    private void Register(RegisterRequest register)
    {
        if (_broken is not null)
        {
            register.Requester.Tell(new LoopRejected(register.RequestId, _broken, RejectionCode.EngineUnavailable));
            return;
        }

        string? rejection = _loop.Submit(register.RequestId, register.Prompt.ToArray(), register.Sampling, register.Deadline, register.ContinueFrom?.ToArray() ?? default(ReadOnlyMemory<int>));
        if (rejection is not null)
        {
            // The HTTP layer validates prompts and sampling first, so a rejection while the queue
            // is full is a load problem (429, try later), not a bad request.
            register.Requester.Tell(new LoopRejected(register.RequestId, rejection, _loop.WaitingCount >= _options.MaxWaiting ? RejectionCode.QueueFull : RejectionCode.InvalidField));
            return;
        }

        _requesters[register.RequestId] = register.Requester;
        _metrics?.PublishLoopState(_loop);
        EnsureStepping();
    }

    private void RunIteration()
    {
        _stepQueued = false;
        // A Step queued before a shard was lost (or the loop broke): across nodes the lost group's
        // shards are gone until the new placement, so nothing may be sent; their readiness (which
        // calls EnsureStepping) queues the next Step.
        if (!_loop.HasWork || !_shards.AllReady || _broken is not null)
        {
            return;
        }

        if (WindowOpen(out _))
        {
            // Woken early (a registration or cancellation): the timer is still pending or re-armed below.
            EnsureStepping();
            return;
        }

        _lastStepStartedAt = _clock.GetUtcNow();
        long start = Stopwatch.GetTimestamp();
        if (_stepQueuedAt != 0)
        {
            // From sending ourselves Step to running it: the loop had work but was not stepping
            // (messages queued ahead of the Step, the dispatcher's hand-off). That is the loop's
            // own overhead; a batching window's wait is not counted (its Step comes from a timer).
            _metrics?.LoopOverheadSeconds.Add(Stopwatch.GetElapsedTime(_stepQueuedAt, start).TotalSeconds);
            _stepQueuedAt = 0;
        }

        ModelStep step = _loop.PlanStep();
        if (step.IsEmpty)
        {
            // Only retirements (or a baseline whose instances run on their own): nothing for the shards.
            Finish(_loop.CompleteStep(ModelStepResult.Empty), start, TimeSpan.Zero, TimeSpan.Zero);
            return;
        }

        SendStep(step, start);
    }

    /// <summary>Delivers an iteration's tokens and departures, records it, and steps on.</summary>
    private void Finish(IterationReport report, long startedAt, TimeSpan computeTime, TimeSpan copyTime)
    {
        TimeSpan elapsed = Stopwatch.GetElapsedTime(startedAt);
        Publish(report, elapsed, computeTime, copyTime);
        _events.Record(report);
        if (report.Failed)
        {
            _log.Warning("A decode step failed; its requests were re-admitted from their history.");
        }

        foreach (LoopToken token in report.Tokens)
        {
            if (_requesters.TryGetValue(token.RequestId, out IActorRef? requester))
            {
                requester.Tell(token);
            }
        }

        foreach (LoopFinished finished in report.Finished)
        {
            if (_requesters.Remove(finished.RequestId, out IActorRef? requester))
            {
                requester.Tell(finished);
            }
        }

        EnsureStepping();
        RequestPlanIfHoles();
        PublishSummaryIfDue();
    }

    private void PublishSummaryIfDue()
    {
        // At most once per interval while the loop works, and once more as it goes idle, so a
        // viewer's last picture is the empty pool rather than the last busy one. Nothing is sent
        // when nothing happened: an idle loop is silent.
        DateTimeOffset now = _clock.GetUtcNow();
        if (_events.Due(now, force: !_loop.HasWork))
        {
            Context.System.EventStream.Publish(_events.Publish(now, _loop));
        }
    }

    private void RequestPlanIfHoles()
    {
        if (_shuffle is not null && !_planPending && _loop.CompactionWanted is { } wanted)
        {
            _planPending = true;
            _shuffle.Tell(new PlanCompaction(wanted.Live, wanted.Version), Self);
        }
    }

    private void ApplyPlan(CompactionPlanned planned)
    {
        // Accepted plans ride in the next step (their copies run first on every shard); a stale
        // one (slots changed meanwhile) is refused and planned again.
        _planPending = false;
        if (_loop.OfferCompaction(planned.Plan, planned.Version))
        {
            _shufflePlanningTime = planned.PlanningTime;
            EnsureStepping();
        }
        else if (!_awaiting)
        {
            RequestPlanIfHoles();
        }
    }

    private void Publish(IterationReport report, TimeSpan elapsed, TimeSpan computeTime, TimeSpan copyTime)
    {
        if (report.Compaction is { IsEmpty: false } compaction)
        {
            // The iteration summary takes the moves from the report itself (_events.Record).
            Context.System.EventStream.Publish(new KvShuffled(compaction.Moves.Count, compaction.BytesMoved(_bytesPerSlot), _shufflePlanningTime, copyTime));
            _log.Debug("KV shuffle: {0} moves, {1} bytes, planned in {2:F1} us, copied in {3:F1} us", compaction.Moves.Count, compaction.BytesMoved(_bytesPerSlot), _shufflePlanningTime.TotalMicroseconds, copyTime.TotalMicroseconds);
        }

        if (_metrics is null)
        {
            return;
        }

        _metrics.Iterations.Record(elapsed.TotalSeconds);
        // Everything in the iteration but the shards' own computing: planning, sampling, the hops.
        _metrics.LoopOverheadSeconds.Add(Math.Max(0, (elapsed - computeTime).TotalSeconds));
        _metrics.PromptTokens.Add(report.PrefillTokens);
        _metrics.GenerationTokens.Add(report.Tokens.Count);
        if (report.Compaction is { IsEmpty: false } applied)
        {
            _metrics.ShuffleMoves.Add(applied.Moves.Count);
            _metrics.ShuffleSeconds.Add(copyTime.TotalSeconds);
        }

        _metrics.PublishLoopState(_loop);
    }

    private void EnsureStepping()
    {
        // At most one Step in the mailbox: messages that arrive meanwhile queue up ahead of it.
        // While the shards compute, a start or a replacement is under way, or the loop is broken,
        // no Step is sent: the step's completion (or the shards' readiness) calls this again.
        if (_stepQueued || _awaiting || !_shards.AllReady || _broken is not null || !_loop.HasWork)
        {
            return;
        }

        if (WindowOpen(out TimeSpan wait))
        {
            // A batching window (dynamic) or the pace (min-step-interval): no step until it closes; a
            // full batch closes a window earlier, and the registration that fills it comes through
            // Register, which steps at once.
            // One keyed timer: starting it again replaces the pending one, and a Step it sent
            // before being replaced is dropped by Akka (timer generations), so no stale Step arrives.
            Timers.StartSingleTimer(WindowTimer, Step.Instance, wait);
            return;
        }

        Timers.Cancel(WindowTimer);
        _stepQueued = true;
        _stepQueuedAt = Stopwatch.GetTimestamp();
        Self.Tell(Step.Instance, Self);
    }

    private bool WindowOpen(out TimeSpan wait)
    {
        // Two reasons to hold the next step back, the later one counts: the scheduler's batching
        // window and the pace, measured from the last step's start so a slow step is not paced twice.
        DateTimeOffset earliest = _lastStepStartedAt + _options.MinStepInterval;
        if (_loop.NextStepAt is { } at && at > earliest)
        {
            earliest = at;
        }

        wait = earliest - _clock.GetUtcNow();
        return wait > TimeSpan.Zero;
    }
}
