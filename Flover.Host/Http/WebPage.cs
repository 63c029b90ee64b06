using System.Collections.Frozen;
using Microsoft.AspNetCore.Http;

namespace Flover.Host.Http;

/// <summary>
/// The built-in page (<c>GET /</c>): a playground over the public API and a live view of the decode
/// loop. Its files are embedded in the executable (Flover.Host/Web; no build step, no CDN, so it
/// works offline) and are public, whatever the API keys: everything the page fetches follows the key
/// rules. Served with a Content-Security-Policy that allows only this origin's scripts, styles and
/// connections (no inline script, no eval), so model output can never run as code.
/// </summary>
internal static class WebPage
{
    /// <summary>What the page is allowed to load: its own files and this server's API, nothing inline.</summary>
    public const string ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly FrozenDictionary<string, (string Resource, string ContentType)> s_files = new Dictionary<string, (string, string)>
    {
        ["/"] = ("web/index.html", "text/html; charset=utf-8"),
        ["/assets/app.js"] = ("web/app.js", "text/javascript; charset=utf-8"),
        ["/assets/app.css"] = ("web/app.css", "text/css; charset=utf-8"),
        ["/assets/icon.svg"] = ("web/icon.svg", "image/svg+xml"),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The page's paths, served without an API key.</summary>
    public static IReadOnlyCollection<string> Paths => s_files.Keys;

    /// <summary>Writes the file at the request's path.</summary>
    public static async Task ServeAsync(HttpContext http)
    {
        (string resource, string contentType) = s_files[http.Request.Path.Value!];
        await using Stream file = typeof(WebPage).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The executable lacks its embedded {resource}.");
        http.Response.ContentType = contentType;
        http.Response.ContentLength = file.Length;
        http.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        http.Response.Headers.XContentTypeOptions = "nosniff";
        http.Response.Headers["Referrer-Policy"] = "no-referrer";
        http.Response.Headers.CacheControl = "no-cache";
        await file.CopyToAsync(http.Response.Body, http.RequestAborted).ConfigureAwait(false);
    }
}
