using Akka;
using Akka.Actor;
using Microsoft.Extensions.Hosting;

namespace Flover.Host.Http;

/// <summary>
/// The graceful drain on shutdown (SIGTERM, Ctrl+C, or <c>StopAsync</c> on an in-process host),
/// as a task of Akka's <see cref="CoordinatedShutdown"/> in its <c>service-requests-done</c> phase:
/// new requests get 503 while requests in flight finish within <c>flover.http.drain-timeout</c>;
/// those left are cancelled. The host's stop runs the coordinated shutdown from
/// <see cref="StoppingAsync"/>, before any hosted service stops, so the HTTP server still answers
/// during the drain; the later phases then stop the actor system, and only after that does Kestrel
/// stop. A shutdown started from Akka's side (the same <see cref="CoordinatedShutdown.Run"/>) drains
/// the same way, and Akka.Hosting then stops the host.
/// </summary>
internal sealed class DrainService : IHostedLifecycleService
{
    private readonly CoordinatedShutdown _shutdown;

    public DrainService(ServeContext serve, ActorSystem system)
    {
        _shutdown = CoordinatedShutdown.Get(system);
        _shutdown.AddTask(CoordinatedShutdown.PhaseServiceRequestsDone, "flover-drain", async () =>
        {
            // The phase's timeout (set from the drain timeout in ServeApp) bounds this task, so no token is needed.
            (int, int) result = await serve.Engine.DrainAsync(serve.Settings.DrainTimeout, serve.Clock, CancellationToken.None).ConfigureAwait(false);
            Result ??= result;
            return Done.Instance;
        });
    }

    /// <summary>How the drain went: requests in flight when it began, and how many were cancelled.</summary>
    public (int InFlight, int Cancelled)? Result { get; private set; }

    /// <summary>Runs the coordinated shutdown (idempotent: a second run returns the first one's task).</summary>
    public Task StoppingAsync(CancellationToken cancellationToken) =>
        _shutdown.Run(CoordinatedShutdown.ClrExitReason.Instance);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
