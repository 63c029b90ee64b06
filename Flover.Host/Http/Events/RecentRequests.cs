namespace Flover.Host.Http.Events;

/// <summary>One finished request's latencies, for the engine view (no ids, no text).</summary>
/// <param name="TimeToFirstTokenMs">From admission to the first token.</param>
/// <param name="TimePerOutputTokenMs">Mean time between tokens after the first; null with one token.</param>
/// <param name="Tokens">Tokens generated.</param>
/// <param name="FinishReason">The finish reason's label (as <c>flover_requests_total</c>'s).</param>
internal sealed record RecentRequest(double TimeToFirstTokenMs, double? TimePerOutputTokenMs, int Tokens, string FinishReason);

/// <summary>
/// The last <see cref="Capacity"/> requests the engine finished, newest first, for the events of
/// <c>/v1/engine/events</c>. Written by the HTTP requests as they end, read by the event forwarder:
/// a lock, held for a copy.
/// </summary>
internal sealed class RecentRequests
{
    /// <summary>Requests kept.</summary>
    public const int Capacity = 16;

    private readonly Lock _lock = new();
    private readonly LinkedList<RecentRequest> _requests = new();

    /// <summary>Adds a finished request, forgetting the oldest past <see cref="Capacity"/>.</summary>
    public void Add(RecentRequest request)
    {
        lock (_lock)
        {
            _requests.AddFirst(request);
            if (_requests.Count > Capacity)
            {
                _requests.RemoveLast();
            }
        }
    }

    /// <summary>The requests kept, newest first.</summary>
    public IReadOnlyList<RecentRequest> Snapshot()
    {
        lock (_lock)
        {
            return [.. _requests];
        }
    }
}
