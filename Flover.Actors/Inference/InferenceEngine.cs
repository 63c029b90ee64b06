using Akka.Actor;
using Flover.Gpu.Tokenization;

namespace Flover.Actors.Inference;

/// <summary>
/// The engine's entry actor, one per model: for every <see cref="Generate"/> it starts a
/// <see cref="RequestActor"/> that serves the sender. Its children are the decode loop and the
/// request actors; the host exposes its reference.
/// </summary>
public sealed class InferenceEngine : ReceiveActor
{
    private readonly IActorRef _loop;
    private readonly ITokenizer _tokenizer;
    private readonly Gpu.Models.ModelShape _model;
    private long _nextId;
    private bool _draining;
    private readonly IDisposable? _owned;

    /// <summary>Creates the engine over a decode loop's Props (see <see cref="Props(Sharding.ShardedModel, DecodeLoopOptions, ITokenizer, string, TimeProvider?, EngineMetrics?, IDisposable?)"/>).</summary>
    public InferenceEngine(Props loopProps, ITokenizer tokenizer, Gpu.Models.ModelShape model, IDisposable? owned = null)
    {
        _owned = owned;
        _tokenizer = tokenizer;
        _model = model;
        _loop = Context.ActorOf(loopProps, "decode-loop");
        Receive<DescribeEngine>(_ => Sender.Tell(new EngineDescription(_model.VocabularySize, _model.SlotCapacity) { Tokenizer = _tokenizer }));
        Receive<Tokenize>(tokenize => Sender.Tell(new Tokenized(_tokenizer.Encode(tokenize.Text), tokenize.CorrelationId)));
        Receive<Detokenize>(detokenize =>
        {
            int[] ids = [.. detokenize.TokenIds];
            int outside = Array.FindIndex(ids, id => (uint)id >= (uint)_model.VocabularySize);
            if (outside >= 0)
            {
                Sender.Tell(new Rejected($"token {outside} is {ids[outside]}, outside the vocabulary of {_model.VocabularySize} tokens", RejectionCode.InvalidField) { CorrelationId = detokenize.CorrelationId, Field = "token_ids", Value = ids[outside].ToString(System.Globalization.CultureInfo.InvariantCulture) });
                return;
            }

            Sender.Tell(new Detokenized(_tokenizer.Decode(ids), detokenize.CorrelationId));
        });
        Receive<StartDraining>(_ =>
        {
            _draining = true;
            Sender.Tell(EngineDraining.Instance);
        });
        Receive<Generate>(generate =>
        {
            if (_draining)
            {
                // Nothing new while shutting down; requests already in flight finish.
                Sender.Tell(new Rejected("the engine is draining (shutting down) and takes no new requests", RejectionCode.Draining) { CorrelationId = generate.CorrelationId });
                return;
            }

            long id = ++_nextId;
            // Captured now: the factory runs later, on the child's dispatcher, when Sender is another message's.
            IActorRef client = Sender;
            Context.ActorOf(Akka.Actor.Props.Create(() => new RequestActor(id, generate, client, _loop, _tokenizer, _model)), $"request-{id}");
        });
        Receive<ProbeEngine>(probe => _loop.Forward(probe));
    }

    /// <summary>Props of a fused engine over <paramref name="model"/>, run by one shard actor (the model stays the caller's: an embedding or a test that built it).</summary>
    /// <param name="model">The model; the engine does not dispose it.</param>
    /// <param name="options">The decode loop's settings.</param>
    /// <param name="tokenizer">Turns generated ids into text.</param>
    /// <param name="loopDispatcher">The decode loop's dispatcher id.</param>
    /// <param name="clock">The clock deadlines are checked against (the system clock when null; a manual one in tests).</param>
    /// <param name="metrics">Where the decode loop publishes its state and timings (none when null).</param>
    public static Props Props(Gpu.Models.IModel model, DecodeLoopOptions options, ITokenizer tokenizer, string loopDispatcher = "flover.dispatchers.decode-loop", TimeProvider? clock = null, EngineMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Props(Sharding.ShardedModel.Borrowed(model), options, tokenizer, loopDispatcher, clock, metrics);
    }

    /// <summary>Props of a fused engine whose model is <paramref name="model"/>'s shard actors (the decode loop starts and supervises them).</summary>
    /// <param name="model">The shards: how many and how each loads its model.</param>
    /// <param name="options">The decode loop's settings.</param>
    /// <param name="tokenizer">Turns generated ids into text.</param>
    /// <param name="loopDispatcher">The decode loop's dispatcher id.</param>
    /// <param name="clock">The clock deadlines are checked against.</param>
    /// <param name="metrics">Where the decode loop publishes its state and timings (none when null).</param>
    /// <param name="owned">Disposed when the engine stops (the checkpoint its shards load from).</param>
    public static Props Props(Sharding.ShardedModel model, DecodeLoopOptions options, ITokenizer tokenizer, string loopDispatcher = "flover.dispatchers.decode-loop", TimeProvider? clock = null, EngineMetrics? metrics = null, IDisposable? owned = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Gpu.Models.ModelShape shape = model.Shape;
        return Props(() => new FusedDecodeLoop(shape, options, clock), model, options, tokenizer, loopDispatcher, clock, metrics, owned);
    }

    /// <summary>
    /// Props of an engine whose decode loop drives the scheduler <paramref name="scheduler"/>
    /// creates (e.g. <see cref="SchedulerFactory.Create"/> for <c>flover.scheduler.kind</c>) over
    /// <paramref name="model"/>'s shards; the scheduler is created on the loop's thread when the loop starts.
    /// </summary>
    /// <param name="scheduler">Creates the scheduler; models it runs itself (instances) stay the caller's.</param>
    /// <param name="model">The shards the scheduler's plans run on (with the scheduler's <see cref="IDecodeScheduler.ModelSlots"/>).</param>
    /// <param name="options">The decode loop's settings.</param>
    /// <param name="tokenizer">Turns generated ids into text.</param>
    /// <param name="loopDispatcher">The decode loop's dispatcher id.</param>
    /// <param name="clock">The clock batching windows and deadlines are checked against.</param>
    /// <param name="metrics">Where the decode loop publishes its state and timings (none when null).</param>
    /// <param name="owned">Disposed when the engine stops.</param>
    public static Props Props(Func<IDecodeScheduler> scheduler, Sharding.ShardedModel model, DecodeLoopOptions options, ITokenizer tokenizer, string loopDispatcher = "flover.dispatchers.decode-loop", TimeProvider? clock = null, EngineMetrics? metrics = null, IDisposable? owned = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Props loop = DecodeLoopActor.Props(scheduler, model, options, clock, metrics, loopDispatcher);
        Gpu.Models.ModelShape shape = model.Shape;
        return Akka.Actor.Props.Create(() => new InferenceEngine(loop, tokenizer, shape, owned));
    }

    /// <summary>The request actors and the loop are restarted from scratch only by the engine's own supervisor; a failing request actor is stopped.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => Akka.Actor.SupervisorStrategy.StoppingStrategy;

    /// <summary>Closes what the engine owns once its children (the loop and its shards) have stopped.</summary>
    protected override void PostStop()
    {
        _owned?.Dispose();
        base.PostStop();
    }
}
