using System.Text;
using Flover.Actors.Inference;
using Flover.Gpu.Sampling;
using Microsoft.AspNetCore.Http;

namespace Flover.Host.Http;

/// <summary>
/// A streamed answer in Server-Sent Events, as OpenAI sends it: <c>data: {chunk}</c> per text
/// delta, a final chunk with <c>finish_reason</c>, a usage chunk when asked, then
/// <c>data: [DONE]</c>; <c>: keep-alive</c> comments while the engine is quiet.
/// </summary>
internal sealed class SseResponse
{
    private static readonly byte[] s_done = Encoding.UTF8.GetBytes("data: [DONE]\n\n");
    private static readonly byte[] s_keepAlive = Encoding.UTF8.GetBytes(": keep-alive\n\n");

    private readonly HttpContext _http;
    private readonly ServeContext _serve;
    private readonly GenerationRequest _request;
    private readonly ResponseShape _shape;
    private readonly GenerationStream _stream;
    private readonly EventReader _events;

    public SseResponse(HttpContext http, ServeContext serve, GenerationRequest request, ResponseShape shape, GenerationStream stream)
    {
        _http = http;
        _serve = serve;
        _request = request;
        _shape = shape;
        _stream = stream;
        _events = new EventReader(stream.Events, serve.Clock);
    }

    public async Task RunAsync()
    {
        TimeSpan keepAlive = _serve.Settings.KeepAliveInterval;
        // Wait for the engine's first answer before sending headers (up to one keep-alive
        // interval), so a request it rejects at once still gets a proper status code.
        (EventReader.Outcome outcome, object? message) = await _events.NextAsync(keepAlive).ConfigureAwait(false);
        if (message is Rejected rejected)
        {
            _stream.MarkFinished();
            throw GenerationEndpoint.NotAdmitted(rejected);
        }

        if (outcome == EventReader.Outcome.Ended && !_http.RequestAborted.IsCancellationRequested)
        {
            throw Stopped();
        }

        try
        {
            await StartAsync().ConfigureAwait(false);
            while (outcome != EventReader.Outcome.Ended)
            {
                if (outcome == EventReader.Outcome.Quiet)
                {
                    await WriteAsync(s_keepAlive).ConfigureAwait(false);
                }
                else if (await HandleAsync(message!).ConfigureAwait(false))
                {
                    return;
                }

                (outcome, message) = await _events.NextAsync(keepAlive).ConfigureAwait(false);
            }

            // Ended without Completed: the engine stopped (or the client left, and nobody reads this).
            await FailAsync(Stopped()).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            // The client went away mid-stream: disposing the unfinished stream cancels the request.
        }
    }

    private ApiException Stopped() => _stream.CancelledByShutdown ? EngineClient.ShuttingDown() : GenerationEndpoint.EngineStopped();

    private async Task StartAsync()
    {
        _http.Response.ContentType = "text/event-stream; charset=utf-8";
        _http.Response.Headers.CacheControl = "no-cache";
        _http.Response.Headers["X-Accel-Buffering"] = "no";
        await _http.Response.StartAsync(_http.RequestAborted).ConfigureAwait(false);
        if (_shape.OpeningChunk() is byte[] opening)
        {
            await WriteEventAsync(opening).ConfigureAwait(false);
        }
        else
        {
            await _http.Response.Body.FlushAsync(_http.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>Sends what <paramref name="message"/> adds; true once the stream is over.</summary>
    private async Task<bool> HandleAsync(object message)
    {
        switch (message)
        {
            case Token token:
                bool reported = GenerationEndpoint.IsReported(token, _request, _serve.Model);
                if (token.TextDelta.Length > 0 || reported)
                {
                    await WriteEventAsync(_shape.Chunk(token.TextDelta, reported ? [token] : [])).ConfigureAwait(false);
                }

                return false;
            case Rejected rejected:
                _stream.MarkFinished();
                await FailAsync(GenerationEndpoint.NotAdmitted(rejected)).ConfigureAwait(false);
                return true;
            case Completed completed:
                _stream.MarkFinished();
                await CompleteAsync(completed).ConfigureAwait(false);
                return true;
            default:
                return false;
        }
    }

    private async Task CompleteAsync(Completed completed)
    {
        switch (completed.FinishReason)
        {
            case FinishReason.Cancelled:
                if (!_http.RequestAborted.IsCancellationRequested)
                {
                    // A drain cancelled it: the client is still reading and hears why.
                    await FailAsync(EngineClient.ShuttingDown()).ConfigureAwait(false);
                }

                return;
            case FinishReason.Error:
                await FailAsync(GenerationEndpoint.EngineFailed(completed)).ConfigureAwait(false);
                return;
        }

        if (completed.TrailingText.Length > 0)
        {
            await WriteEventAsync(_shape.Chunk(completed.TrailingText, [])).ConfigureAwait(false);
        }

        await WriteEventAsync(_shape.Chunk(string.Empty, [], completed.FinishReason)).ConfigureAwait(false);
        if (_request.IncludeUsage)
        {
            await WriteEventAsync(_shape.UsageChunk(completed.Usage)).ConfigureAwait(false);
        }

        await WriteAsync(s_done).ConfigureAwait(false);
    }

    /// <summary>An error after the headers went out: an error event, then [DONE].</summary>
    private async Task FailAsync(ApiException error)
    {
        await WriteEventAsync(ErrorResponses.ToJson(error)).ConfigureAwait(false);
        await WriteAsync(s_done).ConfigureAwait(false);
    }

    private async Task WriteEventAsync(byte[] json)
    {
        var payload = new byte[json.Length + 8];
        "data: "u8.CopyTo(payload);
        json.CopyTo(payload, 6);
        payload[^2] = (byte)'\n';
        payload[^1] = (byte)'\n';
        await WriteAsync(payload).ConfigureAwait(false);
    }

    private async Task WriteAsync(byte[] bytes)
    {
        await _http.Response.Body.WriteAsync(bytes, _http.RequestAborted).ConfigureAwait(false);
        await _http.Response.Body.FlushAsync(_http.RequestAborted).ConfigureAwait(false);
    }
}
