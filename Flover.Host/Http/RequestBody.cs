using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Flover.Host.Http;

/// <summary>
/// Reads a request body as one JSON object, enforcing <c>flover.http.max-body-size</c> itself (a
/// 413, whether or not the client sent Content-Length, and the same in-process and on Kestrel).
/// </summary>
internal static class RequestBody
{
    /// <summary>The parsed body; the caller disposes it.</summary>
    /// <exception cref="ApiException">413 for a body over the limit; 400 for malformed JSON or a body that is not an object.</exception>
    public static async Task<JsonDocument> ReadObjectAsync(HttpRequest request, long maxBytes, CancellationToken cancellation)
    {
        if (request.ContentLength > maxBytes)
        {
            throw TooLarge(maxBytes);
        }

        // Sized from Content-Length when given (capped: the length is the client's word), and grown as read.
        var buffer = new ArrayBufferWriter<byte>((int)Math.Clamp(request.ContentLength ?? 4096, 1, Math.Min(maxBytes + 1, 1 << 20)));
        while (true)
        {
            Memory<byte> chunk = buffer.GetMemory(4096);
            int read = await request.Body.ReadAsync(chunk, cancellation).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > maxBytes)
            {
                throw TooLarge(maxBytes);
            }
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(buffer.WrittenMemory, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            string detail = buffer.WrittenCount == 0 ? "the body is empty" : e.Message;
            throw ApiException.Invalid(null, $"The request body is not valid JSON: {detail}", "invalid_json");
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            string kind = JsonFields.Describe(document.RootElement);
            document.Dispose();
            throw ApiException.Invalid(null, $"The request body must be a JSON object, not {kind}.", "invalid_json");
        }

        return document;
    }

    private static ApiException TooLarge(long maxBytes) =>
        new(StatusCodes.Status413PayloadTooLarge, $"The request body exceeds the limit of {maxBytes} bytes (flover.http.max-body-size).", null, "request_too_large");
}
