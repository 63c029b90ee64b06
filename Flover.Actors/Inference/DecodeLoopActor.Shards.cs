using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Flover.Actors.Inference.Sharding;
using Flover.Gpu.Models;

namespace Flover.Actors.Inference;

/// <summary>The step in flight: sent to every shard, awaited without blocking, failed on a stop or a deadline.</summary>
internal sealed partial class DecodeLoopActor
{
    private const string DeadlineTimer = "step-deadline";
    private const string GraceTimer = "abort-grace";

    /// <summary>How often a shard may fail to start in a row before the loop gives up.</summary>
    private const int MaxStartFailures = 3;

    private readonly ShardSet _shards;
    private readonly HashSet<int> _lost = [];
    private readonly HashSet<int> _rebuild = [];
    private bool _awaiting;
    private long _step;
    private long _stepStartedAt;
    private DateTimeOffset _stepSentAt;
    private bool[] _answered = [];
    private ModelStepResult? _result;
    private TimeSpan _computeTime;
    private TimeSpan _copyTime;
    private string? _failure;
    private bool _pastDeadline;
    private string? _broken;
    private TimeSpan _shufflePlanningTime;

    /// <summary>Ready answers from a (re)started shard, and deaths of shards between steps.</summary>
    private void OnShardReady(ShardReady ready)
    {
        if (_shards.MarkReady(Sender) && _shards.AllReady)
        {
            _log.Debug("{0} shard(s) ready.", _shards.Count);
            _shards.Model.WhenLoaded?.Invoke();
            Placed();
            EnsureStepping();
        }
    }

    private void SendStep(ModelStep work, long startedAt)
    {
        _step++;
        _awaiting = true;
        _stepStartedAt = startedAt;
        _stepSentAt = _clock.GetUtcNow();
        _answered = new bool[_shards.Count];
        _result = null;
        _computeTime = _copyTime = TimeSpan.Zero;
        _failure = null;
        _pastDeadline = false;
        _lost.Clear();
        _rebuild.Clear();
        var message = new ShardStep(_step, work);
        for (int rank = 0; rank < _shards.Count; rank++)
        {
            _shards[rank].Tell(message, Self);
        }

        Timers.StartSingleTimer(DeadlineTimer, new StepDeadline(_step), _options.StepTimeout);
        Become(Awaiting);
    }

    /// <summary>The shards compute: their answers, deaths and the deadline decide how the step ends.</summary>
    private void Awaiting()
    {
        Common();
        Receive<ShardStepDone>(done => done.Step == _step, done =>
        {
            if (done.Rank == 0)
            {
                _result = done.Result;
                _computeTime = done.ComputeTime;
                _copyTime = done.CopyTime;
            }

            Answered(done.Rank);
        });
        Receive<ShardStepFailed>(failed => failed.Step == _step, failed =>
        {
            // The shard that failed first names the cause; the others only report the abort. A
            // device fault, the graver cause, is never overwritten.
            if (_rebuild.Count == 0 && (_failure is null || !failed.Aborted))
            {
                // Across nodes the step ends at the first report, which is often a survivor's: a rank
                // whose peer failed or vanished sees that peer's connection drop, and cannot tell which
                // of the two happened.
                _failure = !failed.Aborted || !_shards.Remote ? $"tensor-parallel shard {failed.Rank} failed a step: {failed.Error}"
                    : failed.LostRank is int lost ? $"tensor-parallel shard {failed.Rank}'s connection to rank {lost} dropped during a collective: rank {lost} failed or its node was lost (a rank's own error is in its node's log)"
                    : $"tensor-parallel shard {failed.Rank}'s collectives failed: another rank failed or its node was lost (a rank's own error is in its node's log)";
            }

            if (failed.LostRank is int dropped && (uint)dropped < (uint)_shards.Count)
            {
                // A killed process's sockets close at once, long before Akka's failure detector says
                // its node is gone (no Terminated comes first): without this, the next placement would
                // ask that node first and wait a whole placement timeout for its silence.
                _shards.Lost(dropped);
            }

            AnsweredFailing(failed.Rank);
        });
        Receive<ShardDeviceFault>(fault => fault.Step == _step, OnDeviceFault);
        Receive<Terminated>(terminated =>
        {
            if (_shards.RankOf(terminated.ActorRef) is int rank)
            {
                // It will never answer: the others may be waiting for it in a collective.
                _shards.Abort();
                _failure = $"shard {rank} stopped during a step";
                _shards.Lost(rank);
                _lost.Add(rank);
                AnsweredFailing(rank);
            }
        });
        Receive<StepDeadline>(deadline => deadline.Step == _step, _ =>
        {
            // Past the deadline: wake every shard waiting in a collective, give them a moment to
            // report, and replace those that stay silent (stuck in a kernel, or gone quiet).
            _pastDeadline = true;
            _failure = $"the step did not complete within {_options.StepTimeout.TotalSeconds:F0} s (flover.engine.step-timeout)";
            _shards.Abort();
            Timers.StartSingleTimer(GraceTimer, new AbortGrace(_step), _options.AbortGrace);
        });
        Receive<AbortGrace>(grace => grace.Step == _step, _ =>
        {
            for (int rank = 0; rank < _answered.Length; rank++)
            {
                if (!_answered[rank])
                {
                    _log.Error("Shard {0} did not answer within {1} s of its step's deadline; it is replaced. If it is stuck inside a kernel, its thread and memory stay held until the kernel returns.", rank, _options.AbortGrace.TotalSeconds);
                    _lost.Add(rank);
                }
            }

            Resolve();
        });
        Receive<ShardReady>(OnShardReady);
        // Late answers of an abandoned step, and a step timer of an earlier step: nothing to do.
        Receive<ShardStepDone>(_ => { });
        Receive<ShardStepFailed>(_ => { });
        Receive<ShardDeviceFault>(_ => { });
        Receive<StepDeadline>(_ => { });
        Receive<AbortGrace>(_ => { });
        Receive<Step>(_ => _stepQueued = false);
    }

    private void Answered(int rank)
    {
        _answered[rank] = true;
        if (_answered.All(answered => answered))
        {
            Resolve();
        }
    }

    /// <summary>
    /// A shard answered with (or by stopping for) a failure. In one process the loop waits for every
    /// shard, since the survivors keep their group and none may still be inside a collective. Across
    /// nodes the whole group is placed again (<see cref="ShardSet.Regroup"/>) and the old meshes are
    /// closed, so nothing is gained by waiting, and a rank whose node is gone would never answer:
    /// the step ends at once.
    /// </summary>
    private void AnsweredFailing(int rank)
    {
        if (!_shards.Remote)
        {
            Answered(rank);
            return;
        }

        for (int each = 0; each < _shards.Count; each++)
        {
            _lost.Add(each);
        }

        Resolve();
    }

    /// <summary>Ends the awaited step: the scheduler completes it, or fails it and re-admits its requests while the lost shards are replaced.</summary>
    private void Resolve()
    {
        Timers.Cancel(DeadlineTimer);
        Timers.Cancel(GraceTimer);
        _awaiting = false;
        Become(Ready);
        if (_failure is null)
        {
            Finish(_loop.CompleteStep(_result ?? ModelStepResult.Empty), _stepStartedAt, _computeTime, _copyTime);
            return;
        }

        _log.Warning("Step {0} failed: {1}.", _step, _failure);
        IterationReport report = _loop.FailStep(_failure);
        // A fresh group for the survivors and new shards for the lost ranks: the next step waits
        // until they have loaded (EnsureStepping checks AllReady).
        _shards.Regroup(Context, [.. _lost], _failure, _rebuild);
        CheckStartFailures();
        Finish(report, _stepStartedAt, TimeSpan.Zero, TimeSpan.Zero);
    }

    /// <summary>A shard stopped while no step was in flight (killed while idle, or failed to load).</summary>
    private void OnTerminatedBetweenSteps(Terminated terminated)
    {
        if (_shards.RankOf(terminated.ActorRef) is not int rank)
        {
            return;
        }

        if (_shards.Rebuilding(rank))
        {
            // Its accelerator faulted and creating it again failed: the device is gone (or the
            // checkpoint cannot be read again). Retrying would only hide that; the engine stops.
            Break($"shard {rank}'s accelerator could not be created again after a device fault ({_lastShardFailure ?? "see the log for the cause"}); the engine cannot serve");
            return;
        }

        _log.Warning("Shard {0} stopped between steps; it is started again.", rank);
        _shards.Lost(rank);
        _shards.Regroup(Context, [rank], $"shard {rank} stopped between steps");
        if (CheckStartFailures())
        {
            return;
        }

        if (_loop.RunningCount > 0)
        {
            // Its slice of the KV cache is gone: every running sequence is re-prefilled, exactly
            // as after a failed step (the step planned here is never sent).
            _loop.PlanStep();
            Finish(_loop.FailStep($"shard {rank} stopped"), Stopwatch.GetTimestamp(), TimeSpan.Zero, TimeSpan.Zero);
        }
    }

    /// <summary>After too many failed starts of one rank the loop is broken: every request ends with Error, new ones are refused.</summary>
    private bool CheckStartFailures()
    {
        for (int rank = 0; rank < _shards.Count; rank++)
        {
            if (_shards.StartFailures(rank) >= MaxStartFailures)
            {
                Break($"shard {rank} failed to start {MaxStartFailures} times in a row (see the log for the cause); the engine cannot serve");
                return true;
            }
        }

        return false;
    }

    private EngineStatus Status()
    {
        TimeSpan? age = _awaiting ? _clock.GetUtcNow() - _stepSentAt : null;
        string? stalled = _broken
            ?? (_pastDeadline || age > _options.StepTimeout ? $"the step in flight is {age?.TotalSeconds:F1} s old, past its deadline of {_options.StepTimeout.TotalSeconds:F0} s"
            : !_shards.AllReady ? "shards are loading their models"
            : null);
        return new EngineStatus(_loop.RunningCount, _loop.WaitingCount, _loop.SlotsUsed, _loop.SlotsFree, age, _awaiting ? _answered.Count(a => !a) : 0, stalled);
    }

    /// <summary>The step deadline's timer message.</summary>
    private sealed record StepDeadline(long Step) : INoSerializationVerificationNeeded;

    /// <summary>The end of the grace after an abort: shards still silent are replaced.</summary>
    private sealed record AbortGrace(long Step) : INoSerializationVerificationNeeded;
}
