using System.Net;
using Akka.Actor;
using Flover.Actors.Hosting;
using Flover.Actors.Inference;
using Flover.Actors.Inference.Sharding;
using Flover.Configuration;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.Gpu.Models.Llama;

namespace Flover.Host.Bench;

/// <summary>
/// The model a measuring tool (<c>bench-decode</c>, <c>bench</c>'s step-time curve and schedulers)
/// calls directly: with one shard the plain model (<see cref="Gpt2Model"/> or <see cref="LlamaModel"/>)
/// on its accelerator, nothing around it; with more, the engine's own shard actors (in an actor
/// system of the tool's) driven one call at a time by a <see cref="ShardedModelClient"/>. One form
/// of tensor parallelism, the one <c>serve</c> runs.
/// </summary>
internal sealed class ToolModel : IDisposable
{
    private readonly IReadOnlyList<ActorSystem> _systems = [];
    private readonly IModel? _whole;
    private readonly ShardedModelClient? _shards;
    private ToolModel(IModel whole)
    {
        _whole = whole;
        Model = whole;
    }

    private ToolModel(IReadOnlyList<ActorSystem> systems, ShardedModelClient shards)
    {
        _systems = systems;
        _shards = shards;
        Model = shards;
    }

    /// <summary>The model to call.</summary>
    public IModel Model { get; }

    /// <summary>The whole model when it runs on one shard (what <c>bench-decode --profile</c> profiles), else null.</summary>
    public IProfiledModel? Profilable => _whole as IProfiledModel;

    /// <summary>Shards it is split over.</summary>
    public int ShardCount => _shards?.ShardCount ?? 1;

    /// <summary>Bytes of weights held (all shards together).</summary>
    public long WeightBytes => _whole is IModelWeightsHeld held ? held.WeightBytes : _shards!.WeightBytes;

    /// <summary>The precision the weight matrices are held in.</summary>
    public TensorDType WeightDType => _whole is IModelWeightsHeld held ? held.WeightDType : _shards!.WeightDType ?? TensorDType.F32;

    /// <summary>Seconds the shards have spent in collectives, summed over shards (0 for one).</summary>
    public double CollectiveSeconds => _shards?.CollectiveSeconds ?? 0;

    /// <summary>Loads <paramref name="weights"/> as <paramref name="engine"/> asks (device, threads, precision, <see cref="EngineOptions.TensorParallel"/> shards) with <paramref name="options"/>' slots and capacity.</summary>
    /// <exception cref="Gpu.FloverException">The model does not fit, the device cannot be opened, or a shard failed to load.</exception>
    /// <param name="engine">Device, threads, precision and shard count.</param>
    /// <param name="weights">The checkpoint.</param>
    /// <param name="options">Slots and capacity.</param>
    /// <param name="acrossSystems">Each shard in an actor system of its own on loopback Akka.Remote, the collectives over TCP (<see cref="Start"/>).</param>
    public static ToolModel Load(EngineOptions engine, IModelWeights weights, Gpt2ModelOptions options, bool acrossSystems = false)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(options);
        if (engine.TensorParallel <= 1)
        {
            return new ToolModel(Gpt2Model.Load(engine, weights, options));
        }

        return Start(EngineSetup.Shards(engine, weights, options), options.SlotCount, acrossSystems);
    }

    /// <summary>
    /// Loads a model of either family with <paramref name="slots"/> KV slots of <paramref name="capacity"/>
    /// positions in <paramref name="kvDType"/>, as <paramref name="engine"/> asks.
    /// </summary>
    /// <exception cref="Gpu.FloverException">The model does not fit, the device cannot be opened, or the family cannot run as asked (one line).</exception>
    public static ToolModel Load(EngineOptions engine, AnyFamilyWeights weights, int slots, int capacity, TensorDType kvDType, bool acrossSystems = false)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Llama is not { } llama)
        {
            return Load(engine, weights.Gpt2!, new Gpt2ModelOptions(slots, capacity) { KvDType = kvDType }, acrossSystems);
        }

        var options = new LlamaModelOptions(slots, capacity) { KvDType = kvDType };
        if (engine.TensorParallel <= 1)
        {
            return new ToolModel(LlamaModel.Load(engine, llama, options));
        }

        return Start(LlamaEngineSetup.Shards(engine, llama, options), slots, acrossSystems);
    }

    /// <summary>
    /// The shards in one actor system, or with <paramref name="acrossSystems"/> as tensor parallelism
    /// across nodes runs them on one machine: an actor system per rank on loopback Akka.Remote, each
    /// with its shard host; rank 0's system drives the steps and the ranks meet over TCP collectives.
    /// </summary>
    private static ToolModel Start(ShardedModel shards, int slots, bool acrossSystems)
    {
        var systems = new List<ActorSystem>();
        try
        {
            if (!acrossSystems)
            {
                systems.Add(CreateSystem("flover-tool"));
                return new ToolModel(systems, ShardedModelClient.Start(systems[0], shards, slots));
            }

            for (int rank = 0; rank < shards.ShardCount; rank++)
            {
                ActorSystem node = ActorSystem.Create($"flover-tool-{rank}", BootstrapSetup.Create().WithConfig(AkkaConfiguration.From(ConfigurationFactory.ParseString("""
                    akka.loglevel = WARNING
                    akka.actor.provider = remote
                    akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
                    """).WithFallback(ConfigurationFactory.Default()))));
                systems.Add(node);
                node.ActorOf(ShardHostActor.Props(new ShardHostOptions(shards, IPAddress.Loopback)), ShardHostActor.Name);
            }

            ShardedModel placed = shards.WithPlacement(new ShardPlacement([.. systems.Skip(1).Select(node => ((ExtendedActorSystem)node).Provider.DefaultAddress)]));
            return new ToolModel(systems, ShardedModelClient.Start(systems[0], placed, slots));
        }
        catch
        {
            Task.WaitAll([.. systems.Select(node => node.Terminate())]);
            throw;
        }
    }

    /// <summary>An actor system for a measuring tool: Flover's reference configuration, Akka's logging at WARNING (stdout carries the tool's results).</summary>
    public static ActorSystem CreateSystem(string name) =>
        ActorSystem.Create(name, BootstrapSetup.Create().WithConfig(AkkaConfiguration.From(
            ConfigurationFactory.ParseString("akka.loglevel = WARNING").WithFallback(ConfigurationFactory.Default()))));

    /// <summary>Frees the model (and stops the shards' actor system).</summary>
    public void Dispose()
    {
        _whole?.Dispose();
        _shards?.Dispose();
        Task.WaitAll([.. _systems.Select(system => system.Terminate())]);
    }
}
