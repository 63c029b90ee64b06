using Flover.Gpu.Accelerators;
using Flover.Gpu.Collectives;
using Flover.Gpu.Models;

namespace Flover.Actors.Inference.Sharding;

/// <summary>
/// Makes one shard's model: the whole model when <paramref name="communicator"/> is null (one
/// shard), else rank <see cref="ICommunicator.Rank"/>'s slice, meeting the other shards in that
/// communicator's collectives. Called on the shard actor's own (pinned) thread, which owns the
/// model from then on and disposes it when the shard stops.
/// </summary>
/// <param name="slots">KV slots the scheduler needs.</param>
/// <param name="communicator">The shard's place in its tensor-parallel group, or null for a single shard.</param>
public delegate IModel ShardModelFactory(int slots, ICommunicator? communicator);

/// <summary>
/// The decode loop's model as shard actors: how many, how each loads its model, and where they
/// run. One form for every size: with one shard its model is the whole model (no collectives,
/// nothing wrapped around it); with more, each holds a tensor-parallel slice and the decode loop
/// sends every step to all of them. The loop starts, watches and replaces the shards itself.
/// </summary>
public sealed class ShardedModel
{
    /// <summary>Describes <paramref name="shardCount"/> shards of a model of <paramref name="shape"/> made by <paramref name="create"/>.</summary>
    /// <param name="shape">The model's vocabulary, slot capacity and KV bytes per slot (its slot count is the scheduler's).</param>
    /// <param name="shardCount">Shards (1 = the whole model in one shard actor).</param>
    /// <param name="create">Makes each shard's model on its own thread.</param>
    /// <param name="device">Where the shards' buffers live, which decides how their collectives exchange data.</param>
    /// <param name="dispatcher">The shards' dispatcher: pinned (a thread each), since a step blocks in kernels and collectives.</param>
    public ShardedModel(ModelShape shape, int shardCount, ShardModelFactory create, AcceleratorKind device = AcceleratorKind.Cpu, string dispatcher = "flover.dispatchers.shard")
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(create);
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        ArgumentException.ThrowIfNullOrEmpty(dispatcher);
        Shape = shape;
        ShardCount = shardCount;
        Create = create;
        Device = device;
        Dispatcher = dispatcher;
    }

    /// <summary>The model's shape.</summary>
    public ModelShape Shape { get; }

    /// <summary>Shards.</summary>
    public int ShardCount { get; }

    /// <summary>Makes a shard's model.</summary>
    public ShardModelFactory Create { get; }

    /// <summary>Where the shards' buffers live.</summary>
    public AcceleratorKind Device { get; }

    /// <summary>The shards' dispatcher id.</summary>
    public string Dispatcher { get; }

    /// <summary>
    /// Makes the shard actors' Props instead of <see cref="ShardActor"/> (rank, group, slots): tests
    /// put a shard that never answers, or one that blocks, in the group.
    /// </summary>
    internal Func<int, Gpu.Collectives.ICommunicatorGroup?, int, Akka.Actor.Props>? ShardProps { get; init; }

    /// <summary>Wraps each shard's model after it is made (tests hold the engine at a gate with it); the shard disposes both.</summary>
    public Func<IModel, IModel>? Wrap { get; private init; }

    /// <summary>The same shards with each model wrapped by <paramref name="wrap"/> once it is made.</summary>
    public ShardedModel WithWrap(Func<IModel, IModel> wrap) =>
        new(Shape, ShardCount, Create, Device, Dispatcher) { Wrap = wrap, ShardProps = ShardProps, WhenLoaded = WhenLoaded, Placement = Placement };

    /// <summary>
    /// Where the shards run when they span nodes (null: all in this process, as children of the
    /// decode loop). With a placement, every rank is opened by a node's <see cref="ShardHostActor"/>
    /// from that node's own copy of the model (rank 0 by this node's host), so this object's
    /// <see cref="Create"/> is not called here; the loop only plans steps and reads rank 0's logits.
    /// </summary>
    public ShardPlacement? Placement { get; private init; }

    /// <summary>The same shards spread over nodes by <paramref name="placement"/> (see <see cref="Placement"/>).</summary>
    /// <exception cref="ArgumentException">A group of one shard: there is nothing to spread.</exception>
    public ShardedModel WithPlacement(ShardPlacement placement)
    {
        ArgumentNullException.ThrowIfNull(placement);
        if (ShardCount < 2)
        {
            throw new ArgumentException("A placement across nodes needs a tensor-parallel group of at least 2 shards.", nameof(placement));
        }

        return new(Shape, ShardCount, Create, Device, Dispatcher) { Wrap = Wrap, ShardProps = ShardProps, WhenLoaded = WhenLoaded, Placement = placement };
    }

    /// <summary>
    /// Called on the decode loop's thread each time every shard has loaded its model (at start and
    /// after a replacement): the engine closes the checkpoint it loaded from.
    /// </summary>
    public Action? WhenLoaded { get; init; }

    /// <summary>
    /// One shard running <paramref name="model"/>, which stays the caller's (the shard never
    /// disposes it): an embedding or a test that built its model itself. The model must have the
    /// slots the scheduler plans for.
    /// </summary>
    public static ShardedModel Borrowed(IModel model, string dispatcher = "flover.dispatchers.shard")
    {
        ArgumentNullException.ThrowIfNull(model);
        return new ShardedModel(ModelShape.Of(model), 1, (_, _) => new BorrowedModel(model), AcceleratorKind.Cpu, dispatcher);
    }

    /// <summary>A model the shard uses but does not own.</summary>
    private sealed class BorrowedModel(IModel model) : IModel
    {
        public int VocabularySize => model.VocabularySize;

        public int SlotCount => model.SlotCount;

        public int SlotCapacity => model.SlotCapacity;

        public long KvBytesPerSlot => model.KvBytesPerSlot;

        public ModelLogits Prefill(IReadOnlyList<PrefillPrompt> prompts) => model.Prefill(prompts);

        public ModelLogits Decode(ReadOnlySpan<DecodeRow> rows) => model.Decode(rows);

        public void Copy(int fromSlot, int toSlot, int length) => model.Copy(fromSlot, toSlot, length);

        public void Release(int slot) => model.Release(slot);

        public void Dispose()
        {
        }
    }
}
