namespace Flover.Host.Http;

/// <summary>The graceful drain: stop admitting, let requests in flight finish, cancel the rest.</summary>
internal sealed partial class EngineClient
{
    /// <summary>How long cancelled requests get to leave the engine once the drain time is over (one iteration is enough; this bounds a stuck loop).</summary>
    public static readonly TimeSpan CancelGrace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Refuses new requests from now on, waits up to <paramref name="timeout"/> for the requests
    /// in flight to finish, then cancels those left (their clients get a 503) and waits up to
    /// <see cref="CancelGrace"/> for them to leave.
    /// </summary>
    /// <returns>How many requests were in flight when the drain began, and how many of them had to be cancelled.</returns>
    public async Task<(int InFlight, int Cancelled)> DrainAsync(TimeSpan timeout, TimeProvider clock, CancellationToken cancellation)
    {
        int inFlight;
        lock (_gate)
        {
            _draining = true;
            inFlight = _active.Count;
            if (inFlight == 0)
            {
                _idle.TrySetResult();
            }
        }

        // The engine itself refuses new work too (actors in the same system that bypass HTTP get Rejected(Draining)).
        Engine?.Tell(Flover.Actors.Inference.StartDraining.Instance, Akka.Actor.ActorRefs.NoSender);
        if (await WaitIdleAsync(timeout, clock, cancellation).ConfigureAwait(false))
        {
            return (inFlight, 0);
        }

        GenerationStream[] left;
        lock (_gate)
        {
            left = [.. _active];
        }

        foreach (GenerationStream stream in left)
        {
            stream.CancelForShutdown();
        }

        await WaitIdleAsync(CancelGrace, clock, cancellation).ConfigureAwait(false);
        return (inFlight, left.Length);
    }

    private async Task<bool> WaitIdleAsync(TimeSpan timeout, TimeProvider clock, CancellationToken cancellation)
    {
        try
        {
            await _idle.Task.WaitAsync(timeout, clock, cancellation).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
