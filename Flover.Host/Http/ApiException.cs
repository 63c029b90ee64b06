using Microsoft.AspNetCore.Http;

namespace Flover.Host.Http;

/// <summary>
/// A request the API answers with an error instead of a completion: the status code and the
/// four fields of OpenAI's error object. Handlers throw it; <see cref="ErrorResponses"/> writes it.
/// </summary>
internal sealed class ApiException : Exception
{
    public ApiException(int statusCode, string message, string? param, string? code, string type = InvalidRequest)
        : base(message)
    {
        StatusCode = statusCode;
        Param = param;
        Code = code;
        Type = type;
    }

    /// <summary>OpenAI's error type for every client mistake.</summary>
    public const string InvalidRequest = "invalid_request_error";

    /// <summary>OpenAI's error type for a failure on our side.</summary>
    public const string ServerError = "server_error";

    public int StatusCode { get; }

    /// <summary>The request field at fault (a JSON path such as <c>messages[1].role</c>), or null.</summary>
    public string? Param { get; }

    public string? Code { get; }

    public string Type { get; }

    /// <summary>Seconds for a <c>Retry-After</c> header (a 429), or null for none.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>A 400 naming <paramref name="param"/>.</summary>
    public static ApiException Invalid(string? param, string message, string? code = null) =>
        new(StatusCodes.Status400BadRequest, message, param, code);

    /// <summary>The 404 OpenAI answers for a model it does not serve.</summary>
    public static ApiException ModelNotFound(string model, string served) =>
        new(StatusCodes.Status404NotFound, $"The model '{model}' does not exist; this server serves '{served}'.", "model", "model_not_found");
}
