using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Flover.Host.Http;

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{id}</c>: the one served model, as OpenAI lists models.</summary>
internal static class ModelsEndpoint
{
    public static Task ListAsync(HttpContext http, ServedModel model) =>
        WriteAsync(http, json =>
        {
            json.WriteString("object", "list");
            json.WriteStartArray("data");
            json.WriteStartObject();
            WriteModel(json, model);
            json.WriteEndObject();
            json.WriteEndArray();
        });

    public static Task GetAsync(HttpContext http, ServedModel model, string id) =>
        id == model.Id ? WriteAsync(http, json => WriteModel(json, model)) : throw ApiException.ModelNotFound(id, model.Id);

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
