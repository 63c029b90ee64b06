using Akka.Actor;
using Akka.Event;
using Flover.Gpu.Models;

namespace Flover.Actors.Inference;

/// <summary>
/// One per device: owns the model and a scheduler (the <see cref="FusedDecodeLoop"/>, or a
/// baseline from <see cref="SchedulerFactory"/>), and drives it with a
/// <see cref="Step"/> message to itself while work exists. Registrations and cancellations that
/// arrive during a step are already queued ahead of the next <see cref="Step"/>, so they are
/// handled first: that is "fuse arrivals each iteration", with no locks and no polling. When no
/// work is left it stops stepping and waits for messages. Runs on a pinned dispatcher (its own
/// thread, which on a GPU owns the device context) and calls the model synchronously. A scheduler
/// whose batching window is still open (<see cref="IDecodeScheduler.NextStepAt"/>) gets its next
/// <see cref="Step"/> from a timer instead.
/// </summary>
internal sealed class DecodeLoopActor : ReceiveActor, IWithTimers
{
    private const string WindowTimer = "batching-window";

    private readonly IDecodeScheduler _loop;
    private readonly FusedDecodeLoop? _fused;
    private readonly TimeProvider _clock;
    private readonly Dictionary<long, IActorRef> _requesters = [];
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef? _shuffle;
    private readonly long _bytesPerSlot;
    private readonly int _maxWaiting;
    private readonly EngineMetrics? _metrics;
    private readonly IterationAggregator _events;
    private bool _stepQueued;
    private long _stepQueuedAt;
    private bool _planPending;

    /// <summary>Drives the scheduler <paramref name="createScheduler"/> makes; KV shuffles are planned off the loop only for a fused loop with external compaction.</summary>
    /// <remarks>
    /// The scheduler is made here, in the constructor, so it is made on the loop's own (pinned)
    /// thread when the actor starts: Akka evaluates the arguments of a <c>Props.Create</c>
    /// expression when the Props is made, so passing the scheduler itself would make it on the
    /// caller's thread.
    /// </remarks>
    public DecodeLoopActor(Func<IDecodeScheduler> createScheduler, long kvBytesPerSlot, TimeProvider? clock, EngineMetrics? metrics, int maxWaiting, TimeSpan iterationEventsInterval)
    {
        IDecodeScheduler scheduler = createScheduler();
        _loop = scheduler;
        _metrics = metrics;
        _maxWaiting = maxWaiting;
        _fused = scheduler as FusedDecodeLoop;
        _clock = clock ?? TimeProvider.System;
        _bytesPerSlot = kvBytesPerSlot;
        _events = new IterationAggregator(iterationEventsInterval, _clock.GetUtcNow());
        if (_fused?.ExternalCompaction == true)
        {
            _shuffle = Context.ActorOf(Akka.Actor.Props.Create(() => new ShuffleActor()), "shuffle");
        }
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
        Receive<Step>(_ => RunIteration());
        Receive<CompactionPlanned>(ApplyPlan);
        // Queued behind any Step already in the mailbox, so it is answered between two
        // iterations: a loop stuck inside a step never answers, which is what readiness checks.
        Receive<ProbeEngine>(_ => Sender.Tell(new EngineStatus(_loop.RunningCount, _loop.WaitingCount, _loop.SlotsUsed, _loop.SlotsFree)));
    }

    /// <summary>Props on the decode-loop dispatcher (<c>flover.dispatchers.decode-loop</c>: pinned).</summary>
    public static Props Props(IModel model, DecodeLoopOptions options, string dispatcher = "flover.dispatchers.decode-loop", TimeProvider? clock = null, EngineMetrics? metrics = null) =>
        Props(() => new FusedDecodeLoop(model, options, clock), model.KvBytesPerSlot, dispatcher, clock, metrics, options.MaxWaiting, options.IterationEventsInterval);

    /// <summary>Props of a loop over the scheduler <paramref name="scheduler"/> creates (on the loop's own thread, when it starts).</summary>
    public static Props Props(Func<IDecodeScheduler> scheduler, long kvBytesPerSlot, string dispatcher = "flover.dispatchers.decode-loop", TimeProvider? clock = null, EngineMetrics? metrics = null, int maxWaiting = int.MaxValue, TimeSpan iterationEventsInterval = default) =>
        Akka.Actor.Props.Create(() => new DecodeLoopActor(scheduler, kvBytesPerSlot, clock, metrics, maxWaiting, iterationEventsInterval)).WithDispatcher(dispatcher);

    /// <summary>The batching window's timer (Akka cancels it when the actor stops).</summary>
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Stops a baseline's instance threads.</summary>
    protected override void PostStop()
    {
        (_loop as IDisposable)?.Dispose();
        base.PostStop();
    }

    private void Register(RegisterRequest register)
    {
        string? rejection = _loop.Submit(register.RequestId, register.Prompt.ToArray(), register.Sampling, register.Deadline);
        if (rejection is not null)
        {
            // The HTTP layer validates prompts and sampling first, so a rejection while the queue
            // is full is a load problem (429, try later), not a bad request.
            register.Requester.Tell(new LoopRejected(register.RequestId, rejection, _loop.WaitingCount >= _maxWaiting));
            return;
        }

        _requesters[register.RequestId] = register.Requester;
        _metrics?.PublishLoopState(_loop);
        EnsureStepping();
    }

    private void RunIteration()
    {
        _stepQueued = false;
        if (!_loop.HasWork)
        {
            return;
        }

        if (WindowOpen(out _))
        {
            // Woken early (a registration or cancellation): the timer is still pending or re-armed below.
            EnsureStepping();
            return;
        }

        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        if (_stepQueuedAt != 0)
        {
            // From sending ourselves Step to running it: the loop had work but was not stepping
            // (messages queued ahead of the Step, the dispatcher's hand-off). That is the loop's
            // own overhead; a batching window's wait is not counted (its Step comes from a timer).
            _metrics?.LoopOverheadSeconds.Add(System.Diagnostics.Stopwatch.GetElapsedTime(_stepQueuedAt, start).TotalSeconds);
            _stepQueuedAt = 0;
        }

        IterationReport report = _loop.Step();
        Publish(report, System.Diagnostics.Stopwatch.GetElapsedTime(start));
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
        if (_shuffle is not null && _fused is not null && !_planPending && _fused.HasInteriorHoles)
        {
            _planPending = true;
            _shuffle.Tell(new PlanCompaction(_fused.OccupancySnapshot(), _fused.OccupancyVersion), Self);
        }
    }

    private void ApplyPlan(CompactionPlanned planned)
    {
        _planPending = false;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        if (_fused!.ApplyCompaction(planned.Plan, planned.Version))
        {
            TimeSpan copyTime = System.Diagnostics.Stopwatch.GetElapsedTime(start);
            _metrics?.ShuffleMoves.Add(planned.Plan.Moves.Count);
            _events.AddMoves(planned.Plan);
            _metrics?.ShuffleSeconds.Add(copyTime.TotalSeconds);
            Context.System.EventStream.Publish(new KvShuffled(planned.Plan.Moves.Count, planned.Plan.BytesMoved(_bytesPerSlot), planned.PlanningTime, copyTime));
            _log.Debug(
                "KV shuffle: {0} moves, {1} bytes, planned in {2:F1} us, applied in {3:F1} us",
                planned.Plan.Moves.Count,
                planned.Plan.BytesMoved(_bytesPerSlot),
                planned.PlanningTime.TotalMicroseconds,
                System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }

        // Stale (slots changed meanwhile) or more holes since: plan again.
        RequestPlanIfHoles();
    }

    private void Publish(IterationReport report, TimeSpan elapsed)
    {
        if (_metrics is null)
        {
            return;
        }

        _metrics.Iterations.Record(elapsed.TotalSeconds);
        _metrics.PromptTokens.Add(report.PrefillTokens);
        _metrics.GenerationTokens.Add(report.Tokens.Count);
        if (report.Compaction is { } compaction)
        {
            // Compaction inside the step (no shuffle actor): its time is part of the iteration's.
            _metrics.ShuffleMoves.Add(compaction.Moves.Count);
        }

        _metrics.PublishLoopState(_loop);
    }

    private void EnsureStepping()
    {
        // At most one Step in the mailbox: messages that arrive meanwhile queue up ahead of it.
        if (_stepQueued || !_loop.HasWork)
        {
            return;
        }

        if (WindowOpen(out TimeSpan wait))
        {
            // A batching window (dynamic): no step until it closes; a full batch closes it earlier,
            // and the registration that fills it comes through Register, which steps at once.
            // One keyed timer: starting it again replaces the pending one, and a Step it sent
            // before being replaced is dropped by Akka (timer generations), so no stale Step arrives.
            Timers.StartSingleTimer(WindowTimer, Step.Instance, wait);
            return;
        }

        Timers.Cancel(WindowTimer);
        _stepQueued = true;
        _stepQueuedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        Self.Tell(Step.Instance, Self);
    }

    private bool WindowOpen(out TimeSpan wait)
    {
        wait = _loop.NextStepAt is { } at ? at - _clock.GetUtcNow() : TimeSpan.Zero;
        return wait > TimeSpan.Zero;
    }
}
