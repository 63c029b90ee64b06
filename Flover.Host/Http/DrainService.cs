using Microsoft.Extensions.Hosting;

namespace Flover.Host.Http;

/// <summary>
/// The graceful drain on shutdown (SIGTERM, Ctrl+C, or <c>StopAsync</c> on an in-process host):
/// it runs in <see cref="StoppingAsync"/>, before any hosted service stops, so the server still
/// answers (503 to new requests) while requests in flight finish within
/// <c>flover.http.drain-timeout</c>; those left are cancelled. Only then does the server stop.
/// </summary>
internal sealed class DrainService(ServeContext serve) : IHostedLifecycleService
{
    /// <summary>How the last drain went: requests in flight when it began, and how many were cancelled.</summary>
    public (int InFlight, int Cancelled)? Result { get; private set; }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        // A host may be stopped twice (WaitForShutdownAsync stops it, then its owner does): the first drain is the one to report.
        (int, int) result = await serve.Engine.DrainAsync(serve.Settings.DrainTimeout, serve.Clock, cancellationToken).ConfigureAwait(false);
        Result ??= result;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
