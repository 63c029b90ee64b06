using Flover.Actors.Cluster;
using Flover.Actors.Inference;
using Microsoft.AspNetCore.Http;

namespace Flover.Host.Http;

/// <summary>
/// <c>GET /health</c> (the process answers), <c>GET /ready</c> (the model is loaded and the
/// decode loop answers a probe in time; 503 otherwise, and while draining); <c>GET /metrics</c>
/// is <see cref="MetricsEndpoint"/>.
/// </summary>
internal static class OperationsEndpoints
{
    public static Task HealthAsync(HttpContext http) =>
        WriteAsync(http, StatusCodes.Status200OK, JsonOutput.Object(json => json.WriteString("status", "alive")));

    public static async Task ReadyAsync(HttpContext http, ServeContext serve)
    {
        if (serve.Engine.Draining)
        {
            await NotReadyAsync(http, "the server is shutting down").ConfigureAwait(false);
            return;
        }

        EngineStatus? status = await serve.Engine.ProbeAsync(serve.Settings.ReadyTimeout, http.RequestAborted).ConfigureAwait(false);
        if (status is null)
        {
            await NotReadyAsync(http, $"the decode loop did not answer within {serve.Settings.ReadyTimeout.TotalMilliseconds:0} ms (flover.http.ready-timeout)").ConfigureAwait(false);
            return;
        }

        if (status.Stalled is { } stalled)
        {
            // The loop answers during a step; a step past its deadline, or shards still loading or
            // being replaced, is the engine not serving.
            await NotReadyAsync(http, stalled).ConfigureAwait(false);
            return;
        }

        // A cluster frontend also lists the workers behind it (its status sums those serving its model).
        IReadOnlyList<WorkerLoad>? workers = serve.ClusterFrontend ? await serve.Engine.WorkersAsync(serve.Settings.ReadyTimeout, http.RequestAborted).ConfigureAwait(false) : null;
        await WriteAsync(http, StatusCodes.Status200OK, JsonOutput.Object(json =>
        {
            json.WriteString("status", "ready");
            json.WriteString("model", serve.Model.Id);
            json.WriteNumber("requests_running", status.Running);
            json.WriteNumber("requests_waiting", status.Waiting);
            json.WriteNumber("kv_slots_used", status.KvSlotsUsed);
            json.WriteNumber("kv_slots_free", status.KvSlotsFree);
            if (status.StepAge is { } age)
            {
                json.WriteNumber("step_age_seconds", age.TotalSeconds);
            }

            if (workers is not null)
            {
                json.WriteStartArray("workers");
                foreach (WorkerLoad worker in workers)
                {
                    json.WriteStartObject();
                    json.WriteString("worker", worker.Address);
                    json.WriteString("model", worker.Fingerprint.Model);
                    json.WriteNumber("running", worker.Running);
                    json.WriteNumber("waiting", worker.Waiting);
                    json.WriteNumber("kv_slots", worker.KvSlots);
                    json.WriteBoolean("serving", worker.Serving);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }
        })).ConfigureAwait(false);
    }

    private static Task NotReadyAsync(HttpContext http, string reason) =>
        WriteAsync(http, StatusCodes.Status503ServiceUnavailable, JsonOutput.Object(json =>
        {
            json.WriteString("status", "not_ready");
            json.WriteString("reason", reason);
        }));

    private static Task WriteAsync(HttpContext http, int status, byte[] json)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        return http.Response.Body.WriteAsync(json, http.RequestAborted).AsTask();
    }
}
