using System.Text;
using Microsoft.AspNetCore.Http;

namespace Flover.Host.Http.Events;

/// <summary>
/// <c>GET /v1/engine/events</c>: the decode loop's iteration summaries as server-sent events
/// (<c>event: iteration</c>, JSON data; docs/HTTP.md), with keep-alive comments while the engine
/// is idle. Past <c>flover.http.max-event-viewers</c> a viewer gets 429. The stream ends when the
/// client leaves or the server stops.
/// </summary>
internal static class EngineEventsEndpoint
{
    private static readonly byte[] s_eventPrefix = Encoding.UTF8.GetBytes("event: iteration\ndata: ");
    private static readonly byte[] s_eventEnd = Encoding.UTF8.GetBytes("\n\n");
    private static readonly byte[] s_keepAlive = Encoding.UTF8.GetBytes(": keep-alive\n\n");

    public static async Task StreamAsync(HttpContext http, EngineEventHub hub, TimeSpan keepAliveInterval, CancellationToken stopping)
    {
        if (!hub.TryAdd(out EventViewer viewer))
        {
            throw new ApiException(StatusCodes.Status429TooManyRequests, $"The engine's event stream already has its {hub.MaxViewers} viewers (flover.http.max-event-viewers); retry later.", null, "too_many_viewers", "rate_limit_error") { RetryAfterSeconds = 5 };
        }

        using (viewer)
        using (var ended = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping))
        {
            http.Response.ContentType = "text/event-stream; charset=utf-8";
            http.Response.Headers.CacheControl = "no-cache";
            http.Response.Headers["X-Accel-Buffering"] = "no";
            await http.Response.StartAsync(ended.Token).ConfigureAwait(false);
            await http.Response.Body.FlushAsync(ended.Token).ConfigureAwait(false);
            try
            {
                while (true)
                {
                    using var quiet = CancellationTokenSource.CreateLinkedTokenSource(ended.Token);
                    quiet.CancelAfter(keepAliveInterval);
                    byte[] json;
                    try
                    {
                        json = await viewer.Events.ReadAsync(quiet.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!ended.IsCancellationRequested)
                    {
                        await http.Response.Body.WriteAsync(s_keepAlive, ended.Token).ConfigureAwait(false);
                        await http.Response.Body.FlushAsync(ended.Token).ConfigureAwait(false);
                        continue;
                    }

                    await http.Response.Body.WriteAsync(s_eventPrefix, ended.Token).ConfigureAwait(false);
                    await http.Response.Body.WriteAsync(json, ended.Token).ConfigureAwait(false);
                    await http.Response.Body.WriteAsync(s_eventEnd, ended.Token).ConfigureAwait(false);
                    await http.Response.Body.FlushAsync(ended.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (ended.IsCancellationRequested)
            {
                // The viewer left or the server is stopping: the stream simply ends.
            }
        }
    }
}
