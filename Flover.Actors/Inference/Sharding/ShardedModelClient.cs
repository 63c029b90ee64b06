using Akka.Actor;
using Flover.Gpu;
using Flover.Gpu.Models;

namespace Flover.Actors.Inference.Sharding;

/// <summary>
/// The shard actors of a <see cref="ShardedModel"/> driven one call at a time from outside an
/// actor: what the tools that time the model itself (<c>bench-decode</c>, the step-time curve of
/// <c>bench</c>) and the tensor-parallel tests call. Each call becomes one <see cref="ShardStep"/>
/// sent to every shard by a small driver actor (which starts and watches them), and blocks the
/// calling thread until rank 0's answer; never call it from an actor. A shard that fails or stops
/// fails the call with a <see cref="FloverException"/> (no recovery: that is the decode loop's job).
/// </summary>
public sealed class ShardedModelClient : IModel
{
    private readonly IActorRef _driver;
    private readonly TimeSpan _callTimeout;
    private bool _disposed;

    private ShardedModelClient(IActorRef driver, ShardedModel model, int slots, ShardsLoaded loaded, TimeSpan callTimeout)
    {
        _driver = driver;
        _callTimeout = callTimeout;
        VocabularySize = model.Shape.VocabularySize;
        SlotCount = slots;
        SlotCapacity = model.Shape.SlotCapacity;
        KvBytesPerSlot = model.Shape.KvBytesPerSlot;
        ShardCount = model.ShardCount;
        WeightBytes = loaded.WeightBytes;
        WeightDType = loaded.WeightDType;
    }

    /// <inheritdoc />
    public int VocabularySize { get; }

    /// <inheritdoc />
    public int SlotCount { get; }

    /// <inheritdoc />
    public int SlotCapacity { get; }

    /// <inheritdoc />
    public long KvBytesPerSlot { get; }

    /// <summary>Shards in the group.</summary>
    public int ShardCount { get; }

    /// <summary>Bytes of weights the shards hold between them (as each shard's model reports them).</summary>
    public long WeightBytes { get; }

    /// <summary>The precision the shards hold their weight matrices in (null when their models do not say).</summary>
    public Gpu.Checkpoints.TensorDType? WeightDType { get; }

    /// <summary>Seconds the shards have spent in collectives (waiting included), summed over shards.</summary>
    public double CollectiveSeconds => _driver.Ask<double>(CollectiveSecondsQuery.Instance, _callTimeout).GetAwaiter().GetResult();

    /// <summary>Starts <paramref name="model"/>'s shards with <paramref name="slots"/> KV slots each in <paramref name="system"/>, and waits until every one has loaded.</summary>
    /// <param name="system">Where the shard actors live.</param>
    /// <param name="model">The shards.</param>
    /// <param name="slots">KV slots of each shard's model.</param>
    /// <param name="callTimeout">Longest a load or a call may take.</param>
    /// <exception cref="FloverException">A shard failed to load (the cause is logged).</exception>
    public static ShardedModelClient Start(ActorSystem system, ShardedModel model, int slots, TimeSpan? callTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(model);
        TimeSpan timeout = callTimeout ?? TimeSpan.FromMinutes(10);
        IActorRef driver = system.ActorOf(Props.Create(() => new ShardDriverActor(model, slots)), $"shard-client-{Guid.NewGuid():N}");
        object answer = driver.Ask<object>(AwaitShardsLoaded.Instance, timeout).GetAwaiter().GetResult();
        if (answer is not ShardsLoaded loaded)
        {
            system.Stop(driver);
            throw new FloverException(((ShardCallFailed)answer).Reason);
        }

        return new ShardedModelClient(driver, model, slots, loaded, timeout);
    }

    /// <inheritdoc />
    public ModelLogits Prefill(IReadOnlyList<PrefillPrompt> prompts)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        // The prompts' token memory is copied: the shards may read it after the caller reuses it.
        PrefillPrompt[] copied = [.. prompts.Select(p => p with { Tokens = p.Tokens.ToArray() })];
        return Run(new ModelStep([], copied, [])).Prefill!;
    }

    /// <inheritdoc />
    public ModelLogits Decode(ReadOnlySpan<DecodeRow> rows) => Run(new ModelStep([], [], rows.ToArray())).Decode!;

    /// <inheritdoc />
    public void Copy(int fromSlot, int toSlot, int length) => Run(new ModelStep([new KvCopy(fromSlot, toSlot, length)], [], []));

    /// <inheritdoc />
    public void Release(int slot) => Run(new ModelStep([], [], []) { Released = [slot] });

    /// <summary>Stops the driver and, with it, the shards (they free their models).</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _driver.Tell(PoisonPill.Instance);
        }
    }

    private ModelStepResult Run(ModelStep step)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        object answer = _driver.Ask<object>(new RunShardStep(step), _callTimeout).GetAwaiter().GetResult();
        return answer is ModelStepResult result ? result : throw new FloverException(((ShardCallFailed)answer).Reason);
    }
}
