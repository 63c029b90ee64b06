using System.Text;

namespace Flover.Configuration;

/// <summary>
/// Path expressions (<c>a.b."c.d"</c>): unquoted dots separate elements, quoted text is taken
/// whole, and empty elements must be quoted (<c>a."".b</c>); leading, trailing or doubled dots
/// are errors. Used for keys, substitutions and the <see cref="Config"/> getters.
/// </summary>
internal static class HoconPath
{
    /// <summary>Parses a path written as text (a getter's argument, <c>--path</c>, the key of <c>--set</c>).</summary>
    public static IReadOnlyList<string> Parse(string path, string source = "path")
    {
        List<HoconToken> tokens;
        try
        {
            tokens = HoconTokenizer.Tokenize(path, source);
        }
        catch (ConfigurationException exception)
        {
            throw new ConfigurationException(null, $"invalid path '{path}': {exception.Message}", exception);
        }

        tokens.RemoveAt(tokens.Count - 1); // End
        HoconToken? bad = tokens.FirstOrDefault(t => t.Kind is not (HoconTokenKind.QuotedString or HoconTokenKind.UnquotedText or HoconTokenKind.Number or HoconTokenKind.Whitespace));
        if (bad is not null)
        {
            throw new ConfigurationException(null, $"invalid path '{path}': {bad.Describe()} is not allowed in a path (quote the element: \"...\")");
        }

        return FromTokens(tokens, new ConfigOrigin(source, 1, 1), path);
    }

    /// <summary>Builds a path from key or substitution tokens; outer whitespace is ignored, inner whitespace kept.</summary>
    public static IReadOnlyList<string> FromTokens(IReadOnlyList<HoconToken> tokens, ConfigOrigin origin, string? written = null)
    {
        int first = 0;
        int last = tokens.Count - 1;
        while (first <= last && tokens[first].Kind == HoconTokenKind.Whitespace)
        {
            first++;
        }

        while (last >= first && tokens[last].Kind == HoconTokenKind.Whitespace)
        {
            last--;
        }

        written ??= string.Concat(tokens.Skip(first).Take(last - first + 1).Select(t => t.Kind == HoconTokenKind.QuotedString ? $"\"{t.Text}\"" : t.Text));
        if (first > last)
        {
            throw new ConfigurationException(origin, "expected a path (a key such as a.b.c) but found nothing");
        }

        var elements = new List<string>();
        var current = new StringBuilder();
        bool hasCurrent = false;
        for (int i = first; i <= last; i++)
        {
            HoconToken token = tokens[i];
            if (token.Kind == HoconTokenKind.QuotedString)
            {
                current.Append(token.Text);
                hasCurrent = true;
                continue;
            }

            foreach (char c in token.Text)
            {
                if (c != '.')
                {
                    current.Append(c);
                    hasCurrent = true;
                    continue;
                }

                if (!hasCurrent)
                {
                    throw EmptyElement(origin, written);
                }

                elements.Add(current.ToString());
                current.Clear();
                hasCurrent = false;
            }
        }

        if (!hasCurrent)
        {
            throw EmptyElement(origin, written);
        }

        elements.Add(current.ToString());
        return elements;
    }

    /// <summary>Renders a path so that <see cref="Parse"/> reads it back: elements quoted where needed.</summary>
    public static string Render(IReadOnlyList<string> path) => string.Join(".", path.Select(RenderKey));

    /// <summary>Renders one key, quoted unless it is plain unquoted text that reads back as itself.</summary>
    public static string RenderKey(string key)
    {
        bool plain = key.Length > 0
            && key != "include"
            && !char.IsAsciiDigit(key[0]) && key[0] != '-'
            && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
        return plain ? key : HoconRenderer.Quote(key);
    }

    /// <summary>The environment variable name a substitution of <paramref name="path"/> falls back to.</summary>
    public static string JoinForEnvironment(IReadOnlyList<string> path) => string.Join(".", path);

    private static ConfigurationException EmptyElement(ConfigOrigin origin, string written) =>
        new(origin, $"path '{written}' has an empty element: leading, trailing or doubled '.' is not allowed (quote an empty key: a.\"\".b)");
}
