using Akka.Actor;
using Flover.Gpu.Models;

namespace Flover.Actors.Inference.Sharding;

/// <summary><see cref="ShardedModelClient"/> → driver: answer <see cref="ShardsLoaded"/> once every shard has loaded (or <see cref="ShardCallFailed"/>).</summary>
internal sealed record AwaitShardsLoaded : INoSerializationVerificationNeeded
{
    public static AwaitShardsLoaded Instance { get; } = new();
}

/// <summary>Every shard has loaded; the weight bytes they hold between them.</summary>
internal sealed record ShardsLoaded(long WeightBytes, Gpu.Checkpoints.TensorDType? WeightDType) : INoSerializationVerificationNeeded;

/// <summary>Run one step on every shard; answered with rank 0's <see cref="ModelStepResult"/> or <see cref="ShardCallFailed"/>.</summary>
internal sealed record RunShardStep(ModelStep Step) : INoSerializationVerificationNeeded;

/// <summary>A load or a step failed (one line).</summary>
internal sealed record ShardCallFailed(string Reason) : INoSerializationVerificationNeeded;

/// <summary>Asks for the seconds the shards spent in collectives (a double).</summary>
internal sealed record CollectiveSecondsQuery : INoSerializationVerificationNeeded
{
    public static CollectiveSecondsQuery Instance { get; } = new();
}

/// <summary>
/// Starts and watches a <see cref="ShardedModel"/>'s shards and runs one step at a time on them for a
/// <see cref="ShardedModelClient"/>: the shard protocol without the decode loop's scheduling,
/// deadlines or recovery. A shard that stops fails the call in flight and every later one.
/// </summary>
internal sealed class ShardDriverActor : ReceiveActor
{
    private readonly ShardSet _shards;
    private readonly List<IActorRef> _loadWaiters = [];
    private long _weightBytes;
    private Gpu.Checkpoints.TensorDType? _weightDType;
    private string? _broken;
    private IActorRef? _caller;
    private long _step;
    private int _awaited;
    private ModelStepResult? _result;
    private string? _failure;

    public ShardDriverActor(ShardedModel model, int slots)
    {
        _shards = new ShardSet(model, slots);
        Receive<AwaitShardsLoaded>(_ =>
        {
            _loadWaiters.Add(Sender);
            AnswerLoadWaiters();
        });
        Receive<ShardReady>(ready =>
        {
            if (_shards.MarkReady(Sender))
            {
                _weightBytes += ready.WeightBytes;
                _weightDType ??= ready.WeightDType;
                AnswerLoadWaiters();
            }
        });
        Receive<RunShardStep>(run =>
        {
            if (_broken is not null || _caller is not null || !_shards.AllReady)
            {
                Sender.Tell(new ShardCallFailed(_broken ?? (_caller is not null ? "a step is already running: one call at a time" : "the tensor-parallel group is being placed again after a failed step")));
                return;
            }

            _caller = Sender;
            _step++;
            _awaited = _shards.Count;
            _result = null;
            _failure = null;
            for (int rank = 0; rank < _shards.Count; rank++)
            {
                _shards[rank].Tell(new ShardStep(_step, run.Step));
            }
        });
        Receive<ShardStepDone>(done => done.Step == _step, done =>
        {
            _result = done.Rank == 0 ? done.Result ?? ModelStepResult.Empty : _result;
            Answered();
        });
        Receive<ShardStepFailed>(failed => failed.Step == _step, failed =>
        {
            if (_failure is null || !failed.Aborted)
            {
                _failure = $"tensor-parallel shard {failed.Rank} failed a step: {failed.Error}";
            }

            AnsweredFailing();
        });
        Receive<ShardDeviceFault>(fault => fault.Step == _step, fault =>
        {
            // The shard has freed its model: without the decode loop's rebuild, every later call fails.
            _broken = $"tensor-parallel shard {fault.Rank}'s device faulted: {fault.Error}";
            _failure = _broken;
            AnsweredFailing();
        });
        Receive<Terminated>(terminated =>
        {
            if (_shards.RankOf(terminated.ActorRef) is int rank)
            {
                _shards.Abort();
                _broken = $"tensor-parallel shard {rank} stopped (see the log for the cause)";
                AnswerLoadWaiters();
                _caller?.Tell(new ShardCallFailed(_broken));
                _caller = null;
            }
        });
        Receive<CollectiveSecondsQuery>(_ => Sender.Tell(_shards.CollectiveSeconds));
        Receive<ShardsPlaced>(placed => _shards.Placed(Context, placed));
        Receive<ShardPlacementFailed>(failed =>
        {
            if (_shards.PlacementFailure(failed) is { } reason)
            {
                _broken = $"the tensor-parallel group of {_shards.Count} ranks cannot be placed across nodes: {reason}";
                AnswerLoadWaiters();
                _caller?.Tell(new ShardCallFailed(_broken));
                _caller = null;
            }
        });
    }

    protected override void PreStart() => _shards.StartAll(Context);

    protected override SupervisorStrategy SupervisorStrategy() => Akka.Actor.SupervisorStrategy.StoppingStrategy;

    private void AnswerLoadWaiters()
    {
        if (_broken is null && !_shards.AllReady)
        {
            return;
        }

        foreach (IActorRef waiter in _loadWaiters)
        {
            waiter.Tell(_broken is null ? new ShardsLoaded(_weightBytes, _weightDType) : new ShardCallFailed(_broken));
        }

        _loadWaiters.Clear();
    }

    /// <summary>A failure: across nodes the group is placed again and a lost rank never answers, so the call ends at once (as the decode loop does).</summary>
    private void AnsweredFailing()
    {
        if (_shards.Remote)
        {
            _awaited = 1;
        }

        Answered();
    }

    private void Answered()
    {
        if (--_awaited > 0 || _caller is null)
        {
            return;
        }

        if (_failure is not null)
        {
            // Every shard has answered, so none is inside a collective: a fresh group for the next call.
            _shards.Regroup(Context, [], _failure);
        }

        _caller.Tell(_failure is null ? _result! : new ShardCallFailed(_failure));
        _caller = null;
    }
}
