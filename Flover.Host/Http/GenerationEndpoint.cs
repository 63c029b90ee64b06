using System.Text.Json;
using Flover.Actors.Inference;
using Flover.Gpu.Sampling;
using Microsoft.AspNetCore.Http;

namespace Flover.Host.Http;

/// <summary>
/// The flow both generation endpoints share: read and validate the body, admit the request,
/// then answer in one JSON response or as a stream (<see cref="SseResponse"/>). A client that
/// disconnects cancels its request in the engine.
/// </summary>
internal static class GenerationEndpoint
{
    /// <summary>Handles one request with the endpoint's parser and response shape, and records it in the request metrics.</summary>
    public static async Task HandleAsync(
        HttpContext http,
        ServeContext serve,
        Func<JsonElement, ServedModel, GenerationRequest> parse,
        Func<ServedModel, GenerationRequest, DateTimeOffset, ResponseShape> shape)
    {
        GenerationStream? stream = null;
        int status = StatusCodes.Status200OK;
        try
        {
            GenerationRequest request;
            using (JsonDocument body = await RequestBody.ReadObjectAsync(http.Request, serve.Settings.MaxBodySize, http.RequestAborted).ConfigureAwait(false))
            {
                request = parse(body.RootElement, serve.Model);
            }

            DateTimeOffset now = serve.Clock.GetUtcNow();
            ResponseShape answer = shape(serve.Model, request, now);
            // The response's id names the request in the engine too: a cluster frontend logs its
            // failovers with it and each worker receives it (as id@attempt).
            using (stream = serve.Engine.Start(request.ToGenerate(now, serve.Settings.RequestTimeout) with { CorrelationId = answer.Id }))
            using (http.RequestAborted.Register(stream.Cancel))
            {
                if (request.Stream)
                {
                    await new SseResponse(http, serve, request, answer, stream).RunAsync().ConfigureAwait(false);
                }
                else
                {
                    await AnswerWholeAsync(http, serve, request, answer, stream).ConfigureAwait(false);
                }
            }
        }
        catch (ApiException error) when (!http.Response.HasStarted)
        {
            status = error.StatusCode;
            throw;
        }
        catch (Exception) when (!http.RequestAborted.IsCancellationRequested && !http.Response.HasStarted)
        {
            status = StatusCodes.Status500InternalServerError;
            throw;
        }
        finally
        {
            serve.Engine.Requests.Record(http.RequestAborted.IsCancellationRequested ? ServeMetrics.ClientClosedRequest : status, stream?.Timing);
        }
    }

    /// <summary>The whole response in one JSON body, once the engine completed.</summary>
    private static async Task AnswerWholeAsync(HttpContext http, ServeContext serve, GenerationRequest request, ResponseShape answer, GenerationStream stream)
    {
        var text = new System.Text.StringBuilder();
        var reported = new List<Token>();
        await foreach (object message in stream.Events.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            switch (message)
            {
                case Token token:
                    text.Append(token.TextDelta);
                    if (IsReported(token, request, serve.Model))
                    {
                        reported.Add(token);
                    }

                    break;
                case Rejected rejected:
                    stream.MarkFinished();
                    throw NotAdmitted(rejected);
                case Completed completed:
                    stream.MarkFinished();
                    if (completed.FinishReason == FinishReason.Cancelled)
                    {
                        // The client is gone (nothing to answer), or a drain cancelled it (it hears why).
                        if (http.RequestAborted.IsCancellationRequested)
                        {
                            return;
                        }

                        throw EngineClient.ShuttingDown();
                    }

                    if (completed.FinishReason == FinishReason.Error)
                    {
                        throw EngineFailed(completed);
                    }

                    text.Append(completed.TrailingText);
                    http.Response.ContentType = "application/json";
                    await http.Response.Body.WriteAsync(answer.Full(text.ToString(), reported, completed), http.RequestAborted).ConfigureAwait(false);
                    return;
            }
        }

        // The stream ended without an answer: the client left (nothing to say) or the engine stopped.
        if (!http.RequestAborted.IsCancellationRequested)
        {
            throw stream.CancelledByShutdown ? EngineClient.ShuttingDown() : EngineStopped();
        }
    }

    /// <summary>Whether a token appears in logprobs: the end-of-sequence token that finishes a request is not part of the answer.</summary>
    public static bool IsReported(Token token, GenerationRequest request, ServedModel model) =>
        request.WantsLogprobs && (token.TokenId != model.EosTokenId || request.Sampling.IgnoreEos);

    /// <summary>Seconds a client is asked to wait after a 429: about the time a few requests take to leave the queue.</summary>
    public const int RetryAfterSeconds = 1;

    /// <summary>
    /// The engine would not take the request: a 429 with Retry-After when its waiting queue is
    /// full (nothing in flight is affected; retry later), a 503 when it drains or cannot serve,
    /// else a 400 with the engine's reason and the field it names.
    /// </summary>
    public static ApiException NotAdmitted(Rejected rejected) => rejected.Code switch
    {
        RejectionCode.QueueFull => new(StatusCodes.Status429TooManyRequests, $"The engine cannot take the request now: {rejected.Reason}. Retry after {RetryAfterSeconds} s.", null, "engine_overloaded", "rate_limit_error") { RetryAfterSeconds = RetryAfterSeconds },
        RejectionCode.Draining => new(StatusCodes.Status503ServiceUnavailable, $"The engine is shutting down: {rejected.Reason}.", null, "server_shutting_down", ApiException.ServerError),
        RejectionCode.EngineUnavailable => new(StatusCodes.Status503ServiceUnavailable, $"The engine cannot serve: {rejected.Reason}.", null, "engine_unavailable", ApiException.ServerError),
        _ => ApiException.Invalid(rejected.Field, $"The engine rejected the request: {rejected.Reason}", "engine_rejected"),
    };

    /// <summary>The engine stopped (the server is shutting down) before the request finished.</summary>
    public static ApiException EngineStopped() =>
        new(StatusCodes.Status503ServiceUnavailable, "The engine stopped before the request finished (the server is shutting down).", null, "engine_stopped", ApiException.ServerError);

    /// <summary>The engine failed on the request.</summary>
    public static ApiException EngineFailed(Completed completed) =>
        new(StatusCodes.Status500InternalServerError, $"The engine failed: {completed.Error ?? "no detail"}", null, null, ApiException.ServerError);
}
