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
            int read;
            try
            {
                read = await request.Body.ReadAsync(chunk, cancellation).ConfigureAwait(false);
            }
            catch (BadHttpRequestException e)
            {
                // Kestrel's verdict on the client's framing or pace: a 4xx in our error shape, without its internal text.
                throw e.StatusCode == StatusCodes.Status408RequestTimeout
                    ? new ApiException(StatusCodes.Status408RequestTimeout, "The request body arrived too slowly.", null, "request_timeout")
                    : ApiException.Invalid(null, "The request body's framing is malformed (a bad chunk size or chunk terminator).", "invalid_body");
            }

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

        // The whole body, not only the fields we read: invalid bytes anywhere are the client's mistake.
        if (!System.Text.Unicode.Utf8.IsValid(buffer.WrittenSpan))
        {
            throw ApiException.Invalid(null, $"The request body is not valid UTF-8 (at byte {FirstInvalidByte(buffer.WrittenSpan)}).", "invalid_json");
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

        try
        {
            CheckStrings(document.RootElement, string.Empty);
        }
        catch
        {
            document.Dispose();
            throw;
        }

        return document;
    }

    /// <summary>
    /// Every string of the body, names included, must decode: a lone surrogate escape (<c>\ud800</c>)
    /// is valid JSON syntax but no text. Checked once here so no field, known or ignored, fails later.
    /// </summary>
    private static void CheckStrings(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (JsonProperty property in element.EnumerateObject())
                {
                    string name = Decode(() => property.Name, path.Length == 0 ? "a field name" : $"a field name in '{path}'");
                    CheckStrings(property.Value, path.Length == 0 ? name : $"{path}.{name}");
                }

                break;
            case JsonValueKind.Array:
                int index = 0;
                foreach (JsonElement item in element.EnumerateArray())
                {
                    CheckStrings(item, $"{path}[{index++}]");
                }

                break;
            case JsonValueKind.String:
                Decode(element.GetString, path);
                break;
        }
    }

    private static string Decode(Func<string?> read, string field)
    {
        try
        {
            return read() ?? string.Empty;
        }
        catch (InvalidOperationException)
        {
            throw ApiException.Invalid(field, $"'{field}' is not valid text: it holds an unpaired surrogate escape such as \\ud800.", "invalid_json");
        }
    }

    private static int FirstInvalidByte(ReadOnlySpan<byte> bytes)
    {
        char[] chars = ArrayPool<char>.Shared.Rent(Math.Max(1, bytes.Length));
        try
        {
            // Stops at the first invalid sequence: what it consumed is the offset.
            System.Text.Unicode.Utf8.ToUtf16(bytes, chars, out int read, out _, replaceInvalidSequences: false, isFinalBlock: true);
            return read;
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    private static ApiException TooLarge(long maxBytes) =>
        new(StatusCodes.Status413PayloadTooLarge, $"The request body exceeds the limit of {maxBytes} bytes (flover.http.max-body-size).", null, "request_too_large");
}
