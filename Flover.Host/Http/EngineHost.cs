using Flover.Actors.Configuration;
using Flover.Actors.Inference;
using Flover.Actors.Inference.Sharding;
using Flover.Actors.Runtime;
using Flover.Gpu;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.Gpu.Sampling;
using Flover.Gpu.Tokenization;

namespace Flover.Host.Http;

/// <summary>
/// The engine behind <c>flover serve</c>: the model on its accelerator, an actor system and the
/// <c>InferenceEngine</c> actor, built from <see cref="FloverSettings"/> with
/// <see cref="EngineSetup"/>. Disposing stops the actors, then frees the model.
/// </summary>
internal sealed class EngineHost : IAsyncDisposable
{
    private readonly IModel _model;
    private readonly IModelWeights? _weights;
    private readonly ActorSystem _system;

    private readonly EngineMetrics _metrics;

    private EngineHost(IModel model, IModelWeights? weights, ActorSystem system, IActorRef engine, ServedModel served, EngineMetrics metrics)
    {
        _model = model;
        _weights = weights;
        _system = system;
        _metrics = metrics;
        Engine = engine;
        Model = served;
        Client = new EngineClient(system, engine, metrics);
    }

    /// <summary>The served model as the endpoints see it.</summary>
    public ServedModel Model { get; }

    /// <summary>The <c>InferenceEngine</c> actor.</summary>
    public IActorRef Engine { get; }

    /// <summary>Where HTTP requests are admitted.</summary>
    public EngineClient Client { get; }

    /// <summary>Loads the model named by <paramref name="modelArgument"/> or <paramref name="preset"/> and starts the engine, logging progress to <paramref name="log"/>.</summary>
    /// <exception cref="FloverException">The model cannot be opened or the engine settings do not fit it.</exception>
    /// <param name="config">The loaded configuration.</param>
    /// <param name="modelArgument">--model, or null.</param>
    /// <param name="preset">--preset, used when <paramref name="modelArgument"/> is null.</param>
    /// <param name="log">Progress lines.</param>
    /// <param name="wrapModel">Wraps the model the decode loop calls (tests hold the loop at a gate with it); the host still owns and disposes the model itself.</param>
    public static EngineHost Start(Config config, string? modelArgument, string? preset, TextWriter log, Func<IModel, IModel>? wrapModel = null)
    {
        FloverSettings settings = FloverSettings.From(config);
        if (settings.Scheduler.Kind != "fused")
        {
            throw new FloverException($"flover serve runs the fused scheduler; flover.scheduler.kind = {settings.Scheduler.Kind} is not served yet.");
        }

        log.WriteLine($"serve: loading {(modelArgument is null ? $"preset '{preset}'" : modelArgument)} ...");
        IModelWeights weights = ModelSource.Open(modelArgument, preset);
        ActorSystem? system = null;
        IModel? model = null;
        try
        {
            Gpt2Tokenizer tokenizer = modelArgument is null ? Gpt2Tokenizer.Default : Gpt2Tokenizer.FromFolder(ModelLocator.Resolve(modelArgument));
            Gpt2Config shape = weights.Config;
            Gpt2ModelOptions options = EngineSetup.ModelOptions(settings.Engine, shape);
            system = ActorSystem.Create("flover", config);
            IModelWeights? kept = null;
            if (settings.Parallel.Tensor > 1)
            {
                // Shards are actors driven by the decode loop's plans; a stopped shard is rebuilt
                // from the checkpoint, so it stays open (mapped) while the engine runs.
                model = new ShardGroupModel(system, weights, options, new EngineOptions(settings.Engine.Threads, options.WeightDType), settings.Parallel.Tensor);
                kept = weights;
                log.WriteLine($"serve: {weights.Source}; {settings.Parallel.Tensor} tensor-parallel shard actors; {model.SlotCount} KV slots of {model.SlotCapacity} positions");
            }
            else
            {
                var single = EngineSetup.LoadModel(settings, weights);
                model = single;
                log.WriteLine($"serve: {weights.Source}; {single.DeviceDetails}; {single.WeightDType.ToName()} weights; {single.SlotCount} KV slots of {single.SlotCapacity} positions");
            }

            DecodeLoopOptions loop = EngineSetup.LoopOptions(settings.Engine, shape.EosTokenId);
            var metrics = new EngineMetrics(model.SlotCount);
            IActorRef engine = system.ActorOf(InferenceEngine.Props(wrapModel?.Invoke(model) ?? model, loop, tokenizer, metrics: metrics), "engine");
            var served = new ServedModel(ModelId(modelArgument, preset), model.SlotCapacity, model.VocabularySize, shape.EosTokenId, tokenizer, DateTimeOffset.UtcNow);
            var host = new EngineHost(model, kept, system, engine, served, metrics);
            if (kept is null)
            {
                // The single model has copied what it needs onto its accelerator.
                weights.Dispose();
            }

            return host;
        }
        catch
        {
            // Nothing is served: stop the actors (their threads would keep the process alive) and free the model.
            system?.Terminate().GetAwaiter().GetResult();
            model?.Dispose();
            weights.Dispose();
            throw;
        }
    }

    /// <summary>Runs one short request through the whole engine, so the first client does not pay for start-up (JIT, first allocations).</summary>
    /// <exception cref="FloverException">The engine did not answer properly.</exception>
    public async Task WarmUpAsync(TimeSpan timeout)
    {
        var request = new Generate([Model.EosTokenId], new SamplingParameters { MaxTokens = 2, Temperature = 0, IgnoreEos = true }, null, DateTimeOffset.UtcNow + timeout);
        using GenerationStream stream = Client.Start(request);
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
        // Actors first: the decode loop may be inside a step on the model.
        await _system.Terminate().ConfigureAwait(false);
        _model.Dispose();
        _weights?.Dispose();
        _metrics.Dispose();
    }
}
