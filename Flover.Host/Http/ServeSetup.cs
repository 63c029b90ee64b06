using Akka.Actor;
using Akka.Hosting;
using Flover.Actors.Inference;
using Flover.Configuration;

namespace Flover.Host.Http;

/// <summary>What <see cref="ServeApp"/> builds a server from.</summary>
/// <param name="Model">The served model.</param>
/// <param name="Settings">flover.http.*.</param>
/// <param name="Clock">Deadlines and keep-alive timers (the system clock outside tests).</param>
/// <param name="Configuration">The resolved configuration: the actor system is handed its tree.</param>
/// <param name="StartEngine">Starts the engine actor in the actor system and registers it under <see cref="InferenceEngine"/> (see <see cref="EngineHost.StartEngine"/>).</param>
/// <param name="Metrics">The engine's instruments, or null for an engine that publishes none (a scripted one).</param>
/// <param name="ClusterFrontend">The engine is a cluster frontend's <c>ClusterEngine</c>: /v1/models, /ready and /metrics show its workers.</param>
internal sealed record ServeSetup(ServedModel Model, HttpSettings Settings, TimeProvider Clock, Config Configuration, Action<ActorSystem, IActorRegistry> StartEngine, EngineMetrics? Metrics, bool ClusterFrontend = false)
{
    /// <summary>The setup of a server over <paramref name="engine"/>.</summary>
    public static ServeSetup For(EngineHost engine, HttpSettings settings, TimeProvider? clock = null) =>
        new(engine.Model, settings, clock ?? TimeProvider.System, engine.Configuration, engine.StartEngine, engine.Metrics, engine.Cluster.Frontend);
}
