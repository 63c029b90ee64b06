using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Flover.Gpu.Templates;

/// <summary>The kinds of <see cref="JinjaToken"/>.</summary>
internal enum JinjaTokenKind
{
    Text,
    OpenStatement,
    CloseStatement,
    OpenExpression,
    CloseExpression,
    Identifier,
    String,
    Integer,
    Float,
    Operator,
    End,
}

/// <summary>One token of a template, with the line it starts on for messages.</summary>
internal readonly record struct JinjaToken(JinjaTokenKind Kind, string Value, int Line);

/// <summary>
/// Splits a template into text and tag tokens the way <c>@huggingface/jinja</c> (and Python's
/// transformers) do: one trailing newline dropped, <c>lstrip_blocks</c> and <c>trim_blocks</c> on,
/// <c>{%-</c> / <c>-%}</c> trimming the whitespace next to the tag, comments removed.
/// </summary>
internal static partial class JinjaLexer
{
    /// <summary>Longest first, so "==" is not read as "=" "=".</summary>
    private static readonly string[] s_operators =
        ["**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", "|", ".", ",", ":", "(", ")", "[", "]", "{", "}"];

    /// <summary>Tokenizes <paramref name="source"/>.</summary>
    /// <exception cref="JinjaException">An unterminated tag, string or comment, or a character no token starts with.</exception>
    public static List<JinjaToken> Tokenize(string source)
    {
        string text = Preprocess(source);
        var tokens = new List<JinjaToken>();
        int position = 0;
        while (position < text.Length)
        {
            int open = NextTag(text, position);
            if (open > position)
            {
                tokens.Add(new JinjaToken(JinjaTokenKind.Text, text[position..open], LineAt(text, position)));
            }

            if (open == text.Length)
            {
                break;
            }

            bool trimBefore = open + 2 < text.Length && text[open + 2] == '-';
            if (trimBefore)
            {
                TrimLastText(tokens);
            }

            if (text[open + 1] == '#')
            {
                int end = text.IndexOf("#}", open + 2, StringComparison.Ordinal);
                if (end < 0)
                {
                    throw new JinjaException($"line {LineAt(text, open)}: a comment is not closed with #}}.");
                }

                position = end + 2;
                if (text[end - 1] == '-')
                {
                    position = SkipWhitespace(text, position);
                }

                continue;
            }

            bool statement = text[open + 1] == '%';
            tokens.Add(new JinjaToken(statement ? JinjaTokenKind.OpenStatement : JinjaTokenKind.OpenExpression, text.Substring(open, 2), LineAt(text, open)));
            position = TagBody(text, open + (trimBefore ? 3 : 2), statement ? '%' : '}', tokens);
        }

        tokens.Add(new JinjaToken(JinjaTokenKind.End, string.Empty, LineAt(text, text.Length)));
        return tokens;
    }

    /// <summary>Reads the tokens of one tag up to its close; returns the position after it.</summary>
    private static int TagBody(string text, int position, char close, List<JinjaToken> tokens)
    {
        int depth = 0; // Braces of dict literals, so "}}" inside {{ {'a': {'b': 1}} }} is not a close.
        while (true)
        {
            position = SkipWhitespace(text, position);
            if (position >= text.Length)
            {
                throw new JinjaException($"line {LineAt(text, position)}: a tag is not closed.");
            }

            int line = LineAt(text, position);
            char c = text[position];
            bool trimAfter = c == '-' && position + 2 < text.Length && text[position + 1] == close && text[position + 2] == '}';
            if ((trimAfter || (c == close && position + 1 < text.Length && text[position + 1] == '}')) && (close == '%' || depth == 0))
            {
                tokens.Add(new JinjaToken(close == '%' ? JinjaTokenKind.CloseStatement : JinjaTokenKind.CloseExpression, close + "}", line));
                position += trimAfter ? 3 : 2;
                return trimAfter ? SkipWhitespace(text, position) : position;
            }

            if (c is '\'' or '"')
            {
                (string value, position) = ReadString(text, position);
                tokens.Add(new JinjaToken(JinjaTokenKind.String, value, line));
            }
            else if (char.IsAsciiDigit(c))
            {
                Match number = NumberPattern().Match(text, position);
                bool isFloat = number.Value.Contains('.', StringComparison.Ordinal) && tokens[^1].Value != ".";
                string value = isFloat ? number.Value : number.Groups[1].Value;
                tokens.Add(new JinjaToken(isFloat ? JinjaTokenKind.Float : JinjaTokenKind.Integer, value, line));
                position += value.Length;
            }
            else if (char.IsAsciiLetter(c) || c == '_')
            {
                int start = position;
                while (position < text.Length && (char.IsAsciiLetterOrDigit(text[position]) || text[position] == '_'))
                {
                    position++;
                }

                tokens.Add(new JinjaToken(JinjaTokenKind.Identifier, text[start..position], line));
            }
            else
            {
                string op = s_operators.FirstOrDefault(o => string.CompareOrdinal(text, position, o, 0, o.Length) == 0)
                    ?? throw new JinjaException($"line {line}: unexpected character '{c}'.");
                depth += op == "{" ? 1 : op == "}" ? -1 : 0;
                tokens.Add(new JinjaToken(JinjaTokenKind.Operator, op, line));
                position += op.Length;
            }
        }
    }

    private static (string Value, int End) ReadString(string text, int position)
    {
        char quote = text[position++];
        var value = new StringBuilder();
        while (position < text.Length && text[position] != quote)
        {
            char c = text[position++];
            if (c != '\\')
            {
                value.Append(c);
                continue;
            }

            char escaped = position < text.Length ? text[position++] : throw new JinjaException($"line {LineAt(text, position)}: a string is not closed.");
            if (escaped is 'x' or 'u')
            {
                int length = escaped == 'x' ? 2 : 4;
                if (position + length > text.Length || !int.TryParse(text.AsSpan(position, length), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code))
                {
                    throw new JinjaException($"line {LineAt(text, position)}: invalid escape \\{escaped}.");
                }

                value.Append((char)code);
                position += length;
                continue;
            }

            value.Append(escaped switch
            {
                'n' => '\n', 't' => '\t', 'r' => '\r', 'b' => '\b', 'f' => '\f', 'v' => '\v', '0' => '\0', '\'' => '\'', '"' => '"', '\\' => '\\',
                _ => throw new JinjaException($"line {LineAt(text, position)}: unknown escape \\{escaped}."),
            });
        }

        return position < text.Length ? (value.ToString(), position + 1) : throw new JinjaException($"line {LineAt(text, position)}: a string is not closed.");
    }

    /// <summary>The one trailing newline dropped, then lstrip_blocks and trim_blocks, as transformers configures Jinja.</summary>
    private static string Preprocess(string source)
    {
        if (source.EndsWith('\n'))
        {
            source = source[..^1];
        }

        source = LstripBlocks().Replace(source, "$1");
        source = TrimBlocks().Replace(source, "$1");
        var result = new StringBuilder();
        int last = 0;
        foreach (Match tag in GenerationTags().Matches(source))
        {
            int end = tag.Index;
            while (tag.Groups[1].Length > 0 && end > last && JinjaValues.Whitespace.Contains(source[end - 1]))
            {
                end--;
            }

            result.Append(source, last, end - last).Append(tag.Groups[2].Length > 0 ? string.Empty : tag.Groups[3].Value);
            last = tag.Index + tag.Length;
        }

        return result.Append(source, last, source.Length - last).ToString();
    }

    private static int NextTag(string text, int position)
    {
        for (int i = text.IndexOf('{', position); i >= 0 && i + 1 < text.Length; i = text.IndexOf('{', i + 1))
        {
            if (text[i + 1] is '%' or '{' or '#')
            {
                return i;
            }
        }

        return text.Length;
    }

    private static void TrimLastText(List<JinjaToken> tokens)
    {
        if (tokens.Count > 0 && tokens[^1].Kind == JinjaTokenKind.Text)
        {
            string trimmed = tokens[^1].Value.TrimEnd(JinjaValues.Whitespace);
            tokens[^1] = tokens[^1] with { Value = trimmed };
            if (trimmed.Length == 0)
            {
                tokens.RemoveAt(tokens.Count - 1);
            }
        }
    }

    private static int SkipWhitespace(string text, int position)
    {
        while (position < text.Length && JinjaValues.Whitespace.Contains(text[position]))
        {
            position++;
        }

        return position;
    }

    private static int LineAt(string text, int position) => text.AsSpan(0, Math.Min(position, text.Length)).Count('\n') + 1;

    [GeneratedRegex(@"^[ \t]*(\{[#%-])", RegexOptions.Multiline)]
    private static partial Regex LstripBlocks();

    [GeneratedRegex(@"([#%-]\})\n")]
    private static partial Regex TrimBlocks();

    /// <summary>transformers' {% generation %} markers (for assistant masks) render nothing.</summary>
    [GeneratedRegex(@"\{%(-?)\s*(?:end)?generation\s*(-?)%\}(\s*)", RegexOptions.Singleline)]
    private static partial Regex GenerationTags();

    [GeneratedRegex(@"\G([0-9]+)(?:\.[0-9]+)?")]
    private static partial Regex NumberPattern();
}
