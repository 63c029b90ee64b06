using Akka.Actor;
using Akka.Event;
using Flover.Actors.Inference.Sharding;

namespace Flover.Actors.Inference;

/// <summary>
/// Device faults and giving up: a shard whose accelerator is poisoned is rebuilt (replaced: a new
/// shard actor creates its accelerator and model again through the factory), and a loop that
/// cannot get its shards back stops serving with one clear error.
/// </summary>
internal sealed partial class DecodeLoopActor
{
    /// <summary>Why the last shard that threw failed (its innermost cause), for the one-line error when it cannot be rebuilt.</summary>
    private string? _lastShardFailure;

    /// <summary>
    /// A shard that throws (while loading, or out of a handler) is stopped, never restarted in place:
    /// a fresh one needs a fresh group, which only the loop can give (<see cref="ShardSet.Regroup"/>),
    /// so the loop decides on Terminated. The decider runs on the loop's own thread (Akka hands a
    /// child's failure to its parent as a system message) and before that Terminated, so it may keep
    /// the cause for the error a failed rebuild reports.
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(cause =>
    {
        _lastShardFailure = cause.GetBaseException().Message;
        return Directive.Stop;
    });

    /// <summary>
    /// A shard's accelerator faulted (its context is poisoned) and the shard has freed its model: the
    /// step fails like any other (its requests are re-admitted from their history when it resolves)
    /// and the shard is rebuilt rather than told to use a fresh group.
    /// </summary>
    private void OnDeviceFault(ShardDeviceFault fault)
    {
        _failure = $"shard {fault.Rank}'s device faulted: {fault.Error}";
        _rebuild.Add(fault.Rank);
        _lost.Add(fault.Rank);
        _log.Error("Shard {0}'s device faulted in step {1}: {2}. Its accelerator and model are created again; the step's requests are re-admitted from their history.", fault.Rank, fault.Step, fault.Error);
        Context.System.EventStream.Publish(new DeviceFaulted(fault.Rank, fault.Error));
        AnsweredFailing(fault.Rank);
    }

    /// <summary>The loop stops serving: every request it holds ends with Error, new ones are refused, and /ready stays 503 (<see cref="EngineStatus.Stalled"/>).</summary>
    private void Break(string reason)
    {
        // For good, unless the caller is a failed placement (which marks itself again afterwards).
        _unplaced = false;
        _broken = reason;
        _log.Error("{0}.", reason);
        foreach ((long id, IActorRef requester) in _requesters)
        {
            requester.Tell(new LoopFinished(id, Gpu.Sampling.FinishReason.Error, 0, 0, reason));
        }

        _requesters.Clear();
    }
}
