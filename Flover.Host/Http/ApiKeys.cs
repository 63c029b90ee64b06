using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Flover.Host.Http;

/// <summary>
/// API-key authentication: when keys are configured (<c>flover.http.api-keys</c>, plus
/// <c>FLOVER_API_KEYS</c>), every request outside <c>flover.http.unauthenticated-paths</c> needs
/// <c>Authorization: Bearer KEY</c> with one of them, else a 401 in OpenAI's error shape.
/// </summary>
internal sealed class ApiKeys
{
    /// <summary>The environment variable whose comma-separated keys join the configured ones.</summary>
    public const string EnvironmentVariable = "FLOVER_API_KEYS";

    private readonly byte[][] _keys;
    private readonly HashSet<string> _open;

    public ApiKeys(IReadOnlyList<string> keys, IReadOnlyList<string> unauthenticatedPaths)
    {
        _keys = [.. keys.Select(Encoding.UTF8.GetBytes)];
        _open = new HashSet<string>(unauthenticatedPaths, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>True when at least one key is set (else every request is served).</summary>
    public bool Enabled => _keys.Length > 0;

    /// <summary>The configured keys and those of <paramref name="environment"/> (comma-separated, blanks ignored), without duplicates.</summary>
    public static IReadOnlyList<string> Merge(IReadOnlyList<string> configured, string? environment) =>
        [.. configured.Concat((environment ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).Where(k => k.Length > 0).Distinct(StringComparer.Ordinal)];

    /// <summary>Middleware: a 401 unless the request is allowed.</summary>
    public Task CheckAsync(HttpContext http, RequestDelegate next)
    {
        if (!Enabled || _open.Contains(http.Request.Path.Value ?? string.Empty))
        {
            return next(http);
        }

        string? header = http.Request.Headers.Authorization;
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            throw Unauthorized("You didn't provide an API key. Send it as 'Authorization: Bearer KEY'.");
        }

        return Accepts(header["Bearer ".Length..].Trim()) ? next(http) : throw Unauthorized("Incorrect API key provided.");
    }

    private bool Accepts(string key)
    {
        byte[] given = Encoding.UTF8.GetBytes(key);
        bool accepted = false;
        foreach (byte[] known in _keys)
        {
            // Every key is compared, each in constant time: timing says nothing about which matched.
            accepted |= CryptographicOperations.FixedTimeEquals(given, known);
        }

        return accepted;
    }

    private static ApiException Unauthorized(string message) =>
        new(StatusCodes.Status401Unauthorized, message, null, "invalid_api_key");
}
