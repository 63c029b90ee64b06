using Akka.Actor;
using Akka.Hosting;
using Flover.Actors.Hosting;
using Flover.Actors.Inference;
using Flover.Actors.Inference.Sharding;
using Flover.Configuration;
using Flover.Gpu;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.Gpu.Sampling;
using Flover.Gpu.Tokenization;

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
    private readonly IModelWeights _weights;
    private readonly FloverSettings _settings;
    private readonly Gpt2ModelOptions _options;
    private readonly DecodeLoopOptions _loop;
    private readonly Func<IModel, IModel>? _wrapModel;
    private IModel? _model;
    private ActorSystem? _ownSystem;
    private bool _weightsDisposed;

    private EngineHost(Config configuration, FloverSettings settings, IModelWeights weights, IModel? model, Gpt2ModelOptions options, ServedModel served, Func<IModel, IModel>? wrapModel)
    {
        Configuration = configuration;
        _settings = settings;
        _weights = weights;
        _model = model;
        _options = options;
        _wrapModel = wrapModel;
        _loop = EngineSetup.LoopOptions(settings.Engine, weights.Config.EosTokenId);
        Model = served;
        Metrics = new EngineMetrics(options.SlotCount);
    }

    /// <summary>The configuration the engine was loaded with (handed to Akka as the resolved tree).</summary>
    public Config Configuration { get; }

    /// <summary>The served model as the endpoints see it.</summary>
    public ServedModel Model { get; }

    /// <summary>The engine's instruments (the decode loop publishes here; the HTTP layer adds its own).</summary>
    public EngineMetrics Metrics { get; }

    /// <summary>
    /// Loads the model named by <paramref name="modelArgument"/> or <paramref name="preset"/>, logging
    /// progress to <paramref name="log"/>. With <c>flover.parallel.tensor</c> &gt; 1 the shards are
    /// actors, so they load when the engine starts (<see cref="StartEngine"/>).
    /// </summary>
    /// <exception cref="FloverException">The model cannot be opened or the engine settings do not fit it.</exception>
    /// <param name="config">The loaded configuration.</param>
    /// <param name="modelArgument">--model, or null.</param>
    /// <param name="preset">--preset, used when <paramref name="modelArgument"/> is null.</param>
    /// <param name="log">Progress lines.</param>
    /// <param name="wrapModel">Wraps the model the decode loop calls (tests hold the loop at a gate with it); the host still owns and disposes the model itself.</param>
    public static EngineHost Load(Config config, string? modelArgument, string? preset, TextWriter log, Func<IModel, IModel>? wrapModel = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        FloverSettings settings = FloverSettings.From(config);
        if (settings.Scheduler.Kind != "fused")
        {
            throw new FloverException($"flover serve runs the fused scheduler; flover.scheduler.kind = {settings.Scheduler.Kind} is not served yet.");
        }

        log.WriteLine($"serve: loading {(modelArgument is null ? $"preset '{preset}'" : modelArgument)} ...");
        IModelWeights weights = ModelSource.Open(modelArgument, preset);
        IModel? model = null;
        try
        {
            // A folder's tokenizer.json (LLaMA) or vocab.json + merges.txt (GPT-2); its chat template is parsed now, so a bad one fails at start-up.
            ITokenizer tokenizer = modelArgument is null ? Gpt2Tokenizer.Default : TokenizerLoader.FromFolder(ModelLocator.Resolve(modelArgument));
            ChatTemplate chat = ChatTemplate.For(tokenizer);
            Gpt2Config shape = weights.Config;
            Gpt2ModelOptions options = EngineSetup.ModelOptions(settings.Engine, shape);
            int capacity = options.SlotCapacity == 0 ? shape.MaxPositions : options.SlotCapacity;
            if (settings.Parallel.Tensor > 1)
            {
                // Checked before the actor system starts: the shards only load when it does.
                shape.CheckShardCount(settings.Parallel.Tensor, weights.Source);

                DeviceSpec device = EngineSetup.Device(settings.Engine);
                if (device.Kind != AcceleratorKind.Cpu)
                {
                    // The shard actors open the device only when the actor system starts; open it once
                    // here so no driver, no such GPU or a kernel that does not compile is one line
                    // before serving, not a shard that fails to start.
                    DeviceAccelerators.Open(device, EngineOptions.Default).Dispose();
                }

                log.WriteLine($"serve: {weights.Source}; {settings.Parallel.Tensor} tensor-parallel shard actors on {device}; {options.SlotCount} KV slots of {capacity} positions");
            }
            else
            {
                TensorParallelModel single = EngineSetup.LoadModel(settings, weights);
                model = single;
                capacity = single.SlotCapacity;
                log.WriteLine($"serve: {weights.Source}; {single.DeviceDetails}; {single.WeightDType.ToName()} weights; {single.SlotCount} KV slots of {single.SlotCapacity} positions");
            }

            var served = new ServedModel(ModelId(modelArgument, preset), capacity, shape.VocabularySize, shape.EosTokenId, tokenizer, DateTimeOffset.UtcNow, chat);
            var host = new EngineHost(config, settings, weights, model, options, served, wrapModel);
            if (model is not null)
            {
                // The single model has copied what it needs onto its accelerator; shards reload
                // from the mapped checkpoint when one is rebuilt, so theirs stays open.
                host.DisposeWeights();
            }

            return host;
        }
        catch
        {
            model?.Dispose();
            weights.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Starts the <c>InferenceEngine</c> actor (and, with tensor parallelism, its shard actors) in
    /// <paramref name="system"/> and registers it in <paramref name="registry"/> under
    /// <see cref="InferenceEngine"/>, where <see cref="EngineClient"/> finds it. Called once, by
    /// Akka.Hosting when the actor system starts.
    /// </summary>
    public void StartEngine(ActorSystem system, IActorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(registry);
        if (_model is null)
        {
            // Shards are actors driven by the decode loop's plans; a stopped shard is rebuilt from
            // the checkpoint, so it stays open (mapped) while the engine runs.
            var engineOptions = new EngineOptions(_settings.Engine.Threads, _options.WeightDType) { Device = EngineSetup.Device(_settings.Engine) };
            _model = new ShardGroupModel(system, _weights, _options, engineOptions, _settings.Parallel.Tensor);
        }

        IModel served = _wrapModel?.Invoke(_model) ?? _model;
        IActorRef engine = system.ActorOf(InferenceEngine.Props(served, _loop, Model.Tokenizer, metrics: Metrics), "engine");
        registry.Register<InferenceEngine>(engine);
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

        _ownSystem = ActorSystem.Create("flover", BootstrapSetup.Create().WithConfig(AkkaConfiguration.From(Configuration)));
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

        _model?.Dispose();
        DisposeWeights();
        Metrics.Dispose();
    }

    private void DisposeWeights()
    {
        if (!_weightsDisposed)
        {
            _weightsDisposed = true;
            _weights.Dispose();
        }
    }
}
