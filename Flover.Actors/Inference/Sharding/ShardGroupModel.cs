using Akka.Actor;
using Flover.Gpu;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Collectives;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;

namespace Flover.Actors.Inference.Sharding;

/// <summary>
/// A tensor-parallel GPT-2 whose shards are <see cref="ShardActor"/>s, presented to the decode loop
/// as one <see cref="IModel"/>: each call becomes one <see cref="ShardStepPlan"/> sent to every
/// shard, and returns when every shard has answered (rank 0 with the gathered logits). The decode
/// loop calls it on its own pinned thread, so waiting here blocks nothing else.
/// </summary>
/// <remarks>
/// A shard that fails a step, or stops (crash, kill), fails the step with a
/// <see cref="FloverException"/>: the group is aborted so nobody waits in a collective, a stopped
/// shard is started again from the weights, and the decode loop's failure recovery re-prefills
/// every live sequence from its history, which rewrites every shard's KV slice. No token is lost or
/// repeated. The weights must stay open as long as the group lives.
/// </remarks>
public sealed class ShardGroupModel : IModel
{
    private static readonly TimeSpan ShardStartTimeout = TimeSpan.FromMinutes(5);

    private readonly IModelWeights _weights;
    private readonly Gpt2ModelOptions _options;
    private readonly EngineOptions _shardEngine;
    private readonly string _dispatcher;
    private readonly ICommunicatorGroup _group;
    private readonly IActorRef _supervisor;
    private readonly IActorRef[] _shards;
    private readonly bool[] _stopped;
    private readonly Lock _stoppedLock = new();
    private TaskCompletionSource _shardStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _step;
    private int _generation;
    private bool _disposed;

    /// <summary>Starts <paramref name="shardCount"/> shard actors under <paramref name="system"/> and waits until each holds its weights.</summary>
    /// <param name="system">Where the shard actors live.</param>
    /// <param name="weights">The checkpoint; kept open by the caller while the group lives (a stopped shard reloads from it).</param>
    /// <param name="options">Slots, capacity, rows per pass and precision of every shard.</param>
    /// <param name="engine">Kernel threads in all (shared evenly, at least one per shard).</param>
    /// <param name="shardCount">Shards; must divide the head count.</param>
    /// <param name="dispatcher">The shards' dispatcher: pinned (a thread each), since a step blocks in collectives.</param>
    /// <exception cref="FloverException">The head count is not divisible by <paramref name="shardCount"/>, or a shard failed to load.</exception>
    public ShardGroupModel(ActorSystem system, IModelWeights weights, Gpt2ModelOptions options, EngineOptions engine, int shardCount, string dispatcher = "flover.dispatchers.shard")
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(engine);
        weights.Config.CheckShardCount(shardCount, weights.Source);

        _weights = weights;
        _options = options;
        _shardEngine = engine with { Threads = Math.Max(1, engine.ResolveThreadCount() / shardCount) };
        _dispatcher = dispatcher;
        Config = weights.Config;
        _group = ICommunicatorGroup.Create(engine.Device.Kind, shardCount);
        _shards = new IActorRef[shardCount];
        _stopped = new bool[shardCount];
        _supervisor = system.ActorOf(Props.Create(() => new ShardGroupActor(OnShardStopped)), $"shards-{Guid.NewGuid():N}");
        for (int rank = 0; rank < shardCount; rank++)
        {
            StartShard(rank);
        }

        SlotCount = options.SlotCount;
        SlotCapacity = options.SlotCapacity == 0 ? Config.MaxPositions : options.SlotCapacity;
        KvBytesPerSlot = Config.KvBytesPerSlot(SlotCapacity);
    }

    /// <summary>The model's hyper-parameters.</summary>
    public Gpt2Config Config { get; }

    /// <summary>Shards in the group.</summary>
    public int ShardCount => _shards.Length;

    /// <summary>Times a stopped shard has been started again.</summary>
    public int Rebuilds { get; private set; }

    /// <summary>The shard actors, by rank (for supervision tests and diagnostics).</summary>
    public IReadOnlyList<IActorRef> Shards => _shards;

    /// <inheritdoc />
    public int VocabularySize => Config.VocabularySize;

    /// <inheritdoc />
    public int SlotCount { get; }

    /// <inheritdoc />
    public int SlotCapacity { get; }

    /// <inheritdoc />
    public long KvBytesPerSlot { get; }

    /// <inheritdoc />
    public ModelLogits Prefill(IReadOnlyList<PrefillPrompt> prompts)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ShardPrefill[] plan = [.. prompts.Select(p => new ShardPrefill(p.Slot, p.Tokens.ToArray(), p.StartPosition, p.Logits))];
        return Run(new ShardStepPlan(++_step, plan, null))!;
    }

    /// <inheritdoc />
    public ModelLogits Decode(ReadOnlySpan<DecodeRow> rows) => Run(new ShardStepPlan(++_step, null, rows.ToArray()))!;

    /// <inheritdoc />
    public void Copy(int fromSlot, int toSlot, int length) => Run(new ShardCopyPlan(++_step, fromSlot, toSlot, length));

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        // Stopping the supervisor stops the shards, which free their weights and KV in PostStop.
        _group.Abort();
        _supervisor.Tell(PoisonPill.Instance);
    }

    private ModelLogits? Run(object plan)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Task stopped;
        lock (_stoppedLock)
        {
            stopped = _shardStopped.Task;
        }

        Task<object>[] replies = [.. _shards.Select(shard => shard.Ask<object>(plan))];
        Task all = Task.WhenAll(replies);
        if (Task.WaitAny(all, stopped) == 1)
        {
            // A shard stopped: the live ones were woken by the abort and will answer; the dead one never will.
            int[] live = [.. Enumerable.Range(0, _shards.Length).Where(rank => !IsStopped(rank))];
            Task.WaitAll([.. live.Select(rank => (Task)replies[rank])]);
            string ranks = string.Join(", ", Enumerable.Range(0, _shards.Length).Where(IsStopped));
            Rebuild();
            throw new FloverException($"Tensor-parallel shard {ranks} stopped during a step; it was started again and the step must be redone from the sequences' history.");
        }

        object[] answers = [.. replies.Select(reply => reply.Result)];
        // The shard that failed first names the cause; the others only report that they were aborted.
        if (answers.OfType<ShardStepFailed>().OrderBy(f => f.Error == "aborted" ? 1 : 0).FirstOrDefault() is { } failed)
        {
            // Every shard has answered, so none is inside a collective: the group can be reset.
            _group.Reset();
            throw new FloverException($"Tensor-parallel shard {failed.Rank} failed a step: {failed.Error}");
        }

        return ((ShardStepCompleted)answers[0]).Logits;
    }

    private void OnShardStopped(int rank)
    {
        lock (_stoppedLock)
        {
            _stopped[rank] = true;
            _group.Abort();
            _shardStopped.TrySetResult();
        }
    }

    private bool IsStopped(int rank)
    {
        lock (_stoppedLock)
        {
            return _stopped[rank];
        }
    }

    private void Rebuild()
    {
        _group.Reset();
        lock (_stoppedLock)
        {
            _shardStopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        for (int rank = 0; rank < _shards.Length; rank++)
        {
            if (IsStopped(rank))
            {
                lock (_stoppedLock)
                {
                    _stopped[rank] = false;
                }

                StartShard(rank);
                Rebuilds++;
            }
        }
    }

    private void StartShard(int rank)
    {
        int generation = ++_generation;
        Props props = Props.Create(() => new ShardActor(_weights, _options, _shardEngine, _group, rank)).WithDispatcher(_dispatcher);
        IActorRef shard = _supervisor.Ask<IActorRef>(new StartShard(rank, props, $"shard-{rank}-{generation}")).GetAwaiter().GetResult();
        Task<ShardReady> ready = shard.Ask<ShardReady>(ShardReadyQuery.Instance);
        Task stopped;
        lock (_stoppedLock)
        {
            stopped = _shardStopped.Task;
        }

        if (Task.WaitAny([ready, stopped], ShardStartTimeout) != 0)
        {
            throw new FloverException($"Tensor-parallel shard {rank} did not start (its weights failed to load or it stopped); see the log for the cause.");
        }

        _shards[rank] = shard;
    }
}
