using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Flover.Host.Http;

/// <summary>
/// <c>GET /v1/models</c> and <c>GET /v1/models/{id}</c>: the one served model, as OpenAI lists
/// models. On a cluster frontend the model is listed only while a serving worker it knows runs it
/// (the list is empty before a worker registers and after the last one left): a frontend routes
/// only its own model, so other models its workers might run are not listed.
/// </summary>
internal static class ModelsEndpoint
{
    public static async Task ListAsync(HttpContext http, ServeContext serve)
    {
        bool served = await ServedAsync(http, serve).ConfigureAwait(false);
        await WriteAsync(http, json =>
        {
            json.WriteString("object", "list");
            json.WriteStartArray("data");
            if (served)
            {
                json.WriteStartObject();
                WriteModel(json, serve.Model);
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }).ConfigureAwait(false);
    }

    public static async Task GetAsync(HttpContext http, ServeContext serve, string id)
    {
        if (id != serve.Model.Id || !await ServedAsync(http, serve).ConfigureAwait(false))
        {
            throw ApiException.ModelNotFound(id, serve.Model.Id);
        }

        await WriteAsync(http, json => WriteModel(json, serve.Model)).ConfigureAwait(false);
    }

    private static async Task<bool> ServedAsync(HttpContext http, ServeContext serve) =>
        !serve.ClusterFrontend
        || ServeContext.Serves(serve.Model.Id, await serve.Engine.WorkersAsync(serve.Settings.ReadyTimeout, http.RequestAborted).ConfigureAwait(false));

    private static void WriteModel(Utf8JsonWriter json, ServedModel model)
    {
        json.WriteString("id", model.Id);
        json.WriteString("object", "model");
        json.WriteNumber("created", model.Created.ToUnixTimeSeconds());
        json.WriteString("owned_by", "flover");
        // vLLM's name for the context length, which clients read to size their requests.
        json.WriteNumber("max_model_len", model.ContextLength);
    }

    private static async Task WriteAsync(HttpContext http, Action<Utf8JsonWriter> body)
    {
        http.Response.ContentType = "application/json";
        await http.Response.Body.WriteAsync(JsonOutput.Object(body), http.RequestAborted).ConfigureAwait(false);
    }
}
