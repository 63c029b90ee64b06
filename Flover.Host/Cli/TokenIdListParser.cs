using System.Globalization;
using System.Text.Json;
using Flover.Gpu;

namespace Flover.Host.Cli;

/// <summary>
/// Reads a list of token ids as users paste them: a JSON array (<c>[15496, 995]</c>) or ids
/// separated by spaces, newlines and/or commas (<c>15496 995</c>, <c>15496,995</c>).
/// </summary>
internal static class TokenIdListParser
{
    private static readonly char[] s_separators = [' ', '\t', '\r', '\n', ','];

    /// <summary>Parses <paramref name="text"/>; an empty text is an empty list.</summary>
    /// <exception cref="FloverException">An entry is not a non-negative integer (the message quotes it).</exception>
    public static int[] Parse(string text)
    {
        string trimmed = text.Trim();
        if (trimmed.StartsWith('['))
        {
            return ParseJson(trimmed);
        }

        return [.. trimmed.Split(s_separators, StringSplitOptions.RemoveEmptyEntries).Select(ParseId)];
    }

    private static int[] ParseJson(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException exception)
        {
            throw new FloverException($"The token ids look like a JSON array but are not valid JSON ({exception.Message}).", exception);
        }

        using (document)
        {
            return [.. document.RootElement.EnumerateArray().Select(element =>
                element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out int id) && id >= 0 ? id : throw NotAnId(element.GetRawText()))];
        }
    }

    private static int ParseId(string token) =>
        int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out int id) ? id : throw NotAnId(token);

    private static FloverException NotAnId(string token) =>
        new($"'{token}' is not a token id: ids are whole numbers from 0 up, separated by spaces or commas, or in a JSON array.");
}
