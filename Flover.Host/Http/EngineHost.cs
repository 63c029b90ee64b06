using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Hosting;
using Flover.Actors.Cluster;
using Flover.Actors.Hosting;
using Flover.Actors.Inference;
using Flover.Actors.Inference.Sharding;
using Flover.Configuration;
using Flover.Gpu;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Sampling;
using Flover.Host.Cli;

namespace Flover.Host.Http;

/// <summary>
/// The engine behind <c>flover serve</c> and the in-process clients: the model loaded on its
/// accelerator from <see cref="FloverSettings"/> (with <see cref="EngineSetup"/>), and how to start
/// the <c>InferenceEngine</c> actor over it inside an actor system, which <c>serve</c> builds with
/// Akka.Hosting (<see cref="ServeApp"/>) and an embedding client builds itself
/// (<see cref="StartSystemAsync"/>). The actor system must be stopped before the host is disposed,
/// since the decode loop may be inside a step on the model.
/// </summary>
internal sealed class EngineHost : IAsyncDisposable
{
    // Null on a cluster frontend that runs no engine (Load's frontend path): it holds no weights.
    private readonly IEngineCheckpoint? _weights;
    private readonly ShardedModel? _shards;
    private readonly DecodeLoopOptions? _loop;
    private readonly ShardPlacement? _placement;
    private ActorSystem? _ownSystem;

    private EngineHost(Config configuration, IEngineCheckpoint? weights, ShardedModel? shards, DecodeLoopOptions? loop, ServedModel served, WorkerFingerprint fingerprint)
    {
        // Both roles for a cluster node that names none, and the wire-format role the compatibility check compares.
        Configuration = ClusterCompatibility.WithWireRole(configuration);
        Cluster = ClusterMode.From(configuration);
        FloverSettings settings = FloverSettings.From(configuration);
        Routing = settings.Cluster;
        // Checked here, so a bad flover.parallel.nodes is one line before anything starts.
        _placement = ShardHosting.Placement(settings.Parallel);
        Fingerprint = fingerprint;
        _weights = weights;
        _shards = shards;
        _loop = loop;
        Model = served;
        Metrics = new EngineMetrics(shards?.Shape.SlotCount ?? settings.Engine.KvSlots);
    }

    /// <summary>The configuration the engine was loaded with (handed to Akka as the resolved tree).</summary>
    public Config Configuration { get; }

    /// <summary>Whether the node is in a cluster and which roles it has (the single-process default when not).</summary>
    public ClusterMode Cluster { get; }

    /// <summary>flover.cluster.*: routing and failover when the node is a frontend, the load interval when a worker.</summary>
    public ClusterRoutingSettings Routing { get; }

    /// <summary>What this node's engine runs, as a worker tells the frontends.</summary>
    public WorkerFingerprint Fingerprint { get; }

    /// <summary>The actor system <see cref="StartSystemAsync"/> started, or null.</summary>
    public ActorSystem? System => _ownSystem;

    /// <summary>The served model as the endpoints see it.</summary>
    public ServedModel Model { get; }

    /// <summary>The engine's instruments (the decode loop publishes here; the HTTP layer adds its own).</summary>
    public EngineMetrics Metrics { get; }

    /// <summary>
    /// Opens the model named by <paramref name="modelArgument"/> or <paramref name="preset"/> and
    /// checks that the settings fit it, logging progress to <paramref name="log"/>. The model is
    /// loaded by its shard actors (one shard: the whole model) when the engine starts
    /// (<see cref="StartEngine"/>); serve's warm-up request waits for them.
    /// </summary>
    /// <exception cref="FloverException">The model cannot be opened, the device cannot be opened, or the engine settings do not fit the model.</exception>
    /// <param name="config">The loaded configuration.</param>
    /// <param name="modelArgument">--model, or null.</param>
    /// <param name="preset">--preset, used when <paramref name="modelArgument"/> is null.</param>
    /// <param name="log">Progress lines.</param>
    /// <param name="wrapModel">Wraps each shard's model (tests hold the loop at a gate with it); the shard disposes both.</param>
    /// <param name="role">The command whose engine this is, which starts each progress line (serve, generate).</param>
    /// <param name="device">Overrides <c>flover.engine.device</c> (ILGPU's CPU accelerator, which configuration cannot name, in tests).</param>
    public static EngineHost Load(Config config, string? modelArgument, string? preset, TextWriter log, Func<IModel, IModel>? wrapModel = null, string role = "serve", DeviceSpec? device = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        FloverSettings settings = FloverSettings.From(config);
        if (settings.Scheduler.Kind != "fused")
        {
            throw new FloverException($"flover {role} runs the fused scheduler; flover.scheduler.kind = {settings.Scheduler.Kind} is not served yet.");
        }

        device ??= EngineSetup.Device(settings.Engine);
        if (ClusterMode.From(config) is { Clustered: true, Frontend: true, Worker: false, Shard: false })
        {
            return LoadFrontend(config, settings, modelArgument, preset, log, role, device);
        }

        // The shard actors open the device only when the actor system starts; open it once here
        // (as one shard would) so no driver, no such GPU or a kernel that does not compile is
        // one line before serving, not a shard that fails to start, and the log names it.
        string details;
        using (Accelerator probe = DeviceAccelerators.Open(device, new EngineOptions(Math.Max(1, new EngineOptions(settings.Engine.Threads).ResolveThreadCount() / settings.Parallel.Tensor)) { BatchInvariant = settings.Engine.BatchInvariant }))
        {
            details = probe.Device.Details;
        }

        log.WriteLine($"{role}: loading {(modelArgument is null ? $"preset '{preset}'" : modelArgument)} ...");
        // The checkpoint stays open while the shards load; it is released once they have (after
        // serve's warm-up) and opened again only when a replaced shard loads.
        OpenedModel opened = OpenedModel.Open(settings, modelArgument is null ? FloverModel.FromPreset(preset!) : FloverModel.FromFolder(modelArgument), device);
        try
        {
            // A folder's chat template is parsed now, so a bad one fails at start-up.
            ChatTemplate chat = ChatTemplate.For(opened.Tokenizer);
            int capacity = opened.Shards.Shape.SlotCapacity;
            log.WriteLine($"{role}: {opened.Weights.Source}; {settings.Parallel.Tensor} shard actor(s), each on {details}; {settings.Engine.WeightDType} weights; {settings.Engine.KvSlots} KV slot(s) of {capacity} positions in {settings.Engine.KvDType}; GEMM {GemmMode.Describe(settings.Engine.BatchInvariant)}");
            var served = new ServedModel(ModelId(modelArgument, preset), capacity, opened.VocabularySize, opened.EosTokenId, opened.Tokenizer, DateTimeOffset.UtcNow, chat);
            ShardedModel wrapped = wrapModel is null ? opened.Shards : opened.Shards.WithWrap(wrapModel);
            WorkerFingerprint fingerprint = WorkerFingerprints.For(served.Id, modelArgument is null ? FloverModel.FromPreset(preset!) : FloverModel.FromFolder(modelArgument), settings, device);
            return new EngineHost(config, opened.Weights, wrapped, opened.Loop, served, fingerprint);
        }
        catch
        {
            opened.Weights.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A cluster frontend that runs no engine: the model's tokenizer and shape only (<see cref="FrontendModel"/>),
    /// no device opened, no weights mapped or generated, no memory check for a model only the workers hold.
    /// </summary>
    private static EngineHost LoadFrontend(Config config, FloverSettings settings, string? modelArgument, string? preset, TextWriter log, string role, DeviceSpec device)
    {
        FloverModel model = modelArgument is null ? FloverModel.FromPreset(preset!) : FloverModel.FromFolder(modelArgument);
        log.WriteLine($"{role}: reading {(modelArgument is null ? $"preset '{preset}'" : modelArgument)}'s tokenizer and shape (a frontend: the workers hold the weights) ...");
        FrontendModel frontend = FrontendModel.Open(settings, model);
        ChatTemplate chat = ChatTemplate.For(frontend.Tokenizer);
        var served = new ServedModel(ModelId(modelArgument, preset), frontend.SlotCapacity, frontend.VocabularySize, frontend.EosTokenId, frontend.Tokenizer, DateTimeOffset.UtcNow, chat);
        return new EngineHost(config, weights: null, shards: null, loop: null, served, WorkerFingerprints.For(served.Id, model, settings, device));
    }

    /// <summary>
    /// Starts the <c>InferenceEngine</c> actor (whose decode loop starts the shard actors) in
    /// <paramref name="system"/> and registers it in <paramref name="registry"/> under
    /// <see cref="InferenceEngine"/>, where <see cref="EngineClient"/> finds it. Called once, by
    /// Akka.Hosting when the actor system starts. In a cluster (<see cref="Cluster"/>), a worker
    /// node also starts the <see cref="WorkerAgent"/> over its engine, and on a frontend node the
    /// registered engine is a <see cref="ClusterEngine"/> that routes to the workers (the local one
    /// included when the node has both roles); a node without seed nodes forms a cluster of its own.
    /// </summary>
    public void StartEngine(ActorSystem system, IActorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(registry);
        // A frontend-only node (no model opened) hosts no ranks and runs no engine.
        if (_shards is not null && ShardHosting.Hosts(FloverSettings.From(Configuration), ((ExtendedActorSystem)system).Provider is not LocalActorRefProvider))
        {
            // Before the engine: with flover.parallel.nodes its rank 0 is opened by this node's host.
            system.ActorOf(ShardHostActor.Props(ShardHosting.Options(Configuration, _shards, ((ExtendedActorSystem)system).Provider.DefaultAddress)), ShardHostActor.Name);
        }

        IActorRef? engine = null;
        if (Cluster.Worker)
        {
            ShardedModel shards = _placement is null ? _shards! : _shards!.WithPlacement(_placement);
            engine = system.ActorOf(InferenceEngine.Props(shards, _loop!, Model.Tokenizer, metrics: Metrics), "engine");
        }
        if (!Cluster.Clustered)
        {
            registry.Register<InferenceEngine>(engine!);
            return;
        }

        system.ActorOf(CompatibilityGuard.Props(ClusterCompatibility.Role(Configuration)), CompatibilityGuard.Name);
        if (engine is not null)
        {
            system.ActorOf(WorkerAgent.Props(engine, Fingerprint, Routing.StatusInterval), WorkerAgent.Name);
        }

        if (Cluster.Frontend || engine is not null)
        {
            // (A node with only the shard role has no engine: it holds other nodes' ranks.)
            registry.Register<InferenceEngine>(Cluster.Frontend ? system.ActorOf(ClusterEngine.Props(Model.Id, Routing), "cluster-engine") : engine!);
        }
        if (!Cluster.HasSeeds)
        {
            // No seed nodes: this node is the first of its cluster (others name it as their seed).
            Akka.Cluster.Cluster.Get(system).Join(Akka.Cluster.Cluster.Get(system).SelfAddress);
        }
    }

    /// <summary>
    /// Starts an actor system of the host's own (for in-process clients that serve no HTTP) with
    /// the engine in it; disposing the host terminates it.
    /// </summary>
    public async Task<EngineClient> StartSystemAsync()
    {
        if (_ownSystem is not null)
        {
            throw new InvalidOperationException("The engine's own actor system is already started.");
        }

        BootstrapSetup bootstrap = BootstrapSetup.Create().WithConfig(AkkaConfiguration.From(Configuration));
        ActorSystemSetup setup = ClusterTls.Setup(Configuration) is { } tls ? bootstrap.And(tls) : ActorSystemSetup.Create(bootstrap);
        _ownSystem = ActorSystem.Create("flover", setup);
        try
        {
            StartEngine(_ownSystem, ActorRegistry.For(_ownSystem));
        }
        catch
        {
            await _ownSystem.Terminate().ConfigureAwait(false);
            throw;
        }

        return new EngineClient(_ownSystem, Metrics);
    }

    /// <summary>Runs one short request through the whole engine, so the first client does not pay for start-up (JIT, first allocations).</summary>
    /// <exception cref="FloverException">The engine did not answer properly.</exception>
    public async Task WarmUpAsync(EngineClient client, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(client);
        var request = new Generate([Model.EosTokenId], new SamplingParameters { MaxTokens = 2, Temperature = 0, IgnoreEos = true }, null, DateTimeOffset.UtcNow + timeout);
        using GenerationStream stream = client.Start(request);
        object? last = null;
        await foreach (object message in stream.Events.ReadAllAsync().ConfigureAwait(false))
        {
            last = message;
        }

        stream.MarkFinished();
        if (last is not Completed { FinishReason: FinishReason.Length })
        {
            throw new FloverException($"serve: the engine's warm-up request failed: {last switch { Completed c => $"{c.FinishReason} {c.Error}", Rejected r => r.Reason, _ => "no answer" }}");
        }

        // Every shard has loaded (the request went through them): the checkpoint can close.
        _weights?.Release();

        // Loading leaves hundreds of megabytes of dead start-up arrays (uploads staged in managed
        // memory, the tokenizer's build) that the GC would otherwise keep committed until enough
        // later allocation triggers a full collection; an idle server should not hold them. Once,
        // before the first client: an aggressive collection compacts and returns the memory.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    /// <summary>The model's name in requests: the preset, or <c>--model</c> as given.</summary>
    public static string ModelId(string? modelArgument, string? preset) =>
        modelArgument is null ? preset! : modelArgument.TrimEnd('/', '\\');

    public async ValueTask DisposeAsync()
    {
        if (_ownSystem is not null)
        {
            // Actors first: the decode loop may be inside a step on the model.
            await _ownSystem.Terminate().ConfigureAwait(false);
        }

        // The shards (stopped with the system) have freed their models.
        _weights?.Dispose();
        Metrics.Dispose();
    }
}
