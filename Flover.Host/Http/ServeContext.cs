using Flover.Configuration;

namespace Flover.Host.Http;

/// <summary>What the endpoints share: the served model, the engine's admission point, the HTTP settings and the clock.</summary>
/// <param name="Model">The served model.</param>
/// <param name="Engine">Where requests are admitted.</param>
/// <param name="Settings">flover.http.*.</param>
/// <param name="Clock">Deadlines and keep-alive timers (the system clock outside tests).</param>
/// <param name="ClusterFrontend">The engine is a cluster frontend's: what it serves is what its workers serve.</param>
internal sealed record ServeContext(ServedModel Model, EngineClient Engine, HttpSettings Settings, TimeProvider Clock, bool ClusterFrontend = false)
{
    /// <summary>
    /// Whether <see cref="Model"/> is served now: always on a single node; on a cluster frontend
    /// when a serving worker that it knows runs it (null workers: the frontend did not answer in time).
    /// </summary>
    public static bool Serves(string model, IReadOnlyList<Flover.Actors.Cluster.WorkerLoad>? workers) =>
        workers is not null && Flover.Actors.Cluster.WorkerRouter.Models(workers).Contains(model, StringComparer.Ordinal);
}
