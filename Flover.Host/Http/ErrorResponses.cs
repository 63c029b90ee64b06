using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Flover.Host.Http;

/// <summary>Writes OpenAI's error body <c>{"error":{"message","type","param","code"}}</c>.</summary>
internal static class ErrorResponses
{
    /// <summary>Answers <paramref name="context"/> with <paramref name="error"/> (headers must not have been sent).</summary>
    public static Task WriteAsync(HttpContext context, ApiException error)
    {
        context.Response.StatusCode = error.StatusCode;
        context.Response.ContentType = "application/json";
        if (error.RetryAfterSeconds is int seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (error.StatusCode == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }

        return context.Response.Body.WriteAsync(ToJson(error)).AsTask();
    }

    /// <summary>The error object as UTF-8 JSON (also the payload of an error event on a stream).</summary>
    public static byte[] ToJson(ApiException error)
    {
        return JsonOutput.Object(json =>
        {
            json.WriteStartObject("error");
            json.WriteString("message", error.Message);
            json.WriteString("type", error.Type);
            WriteNullable(json, "param", error.Param);
            WriteNullable(json, "code", error.Code);
            json.WriteEndObject();
        });
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }
}
