using System.Globalization;
using System.Text;

namespace Flover.Configuration;

internal sealed partial class HoconTokenizer
{
    private HoconToken ReadQuoted(int line, int column)
    {
        Advance(); // opening quote
        if (Peek() == '"' && Peek(1) == '"')
        {
            Advance();
            Advance();
            return ReadTripleQuoted(line, column);
        }

        var value = new StringBuilder();
        while (true)
        {
            if (AtEnd)
            {
                throw Error(line, column, "end of input inside a quoted string (missing closing '\"')");
            }

            int charLine = _line;
            int charColumn = _column;
            char c = Advance();
            if (c == '"')
            {
                return new HoconToken(HoconTokenKind.QuotedString, value.ToString(), line, column);
            }

            if (c == '\\')
            {
                value.Append(ReadEscape(charLine, charColumn));
            }
            else if (char.IsControl(c) && c < ' ')
            {
                string shown = c == '\n' ? "a newline" : $"control character U+{(int)c:X4}";
                throw Error(charLine, charColumn, $"{shown} is not allowed inside a quoted string (use a backslash escape, or \"\"\" for multi-line text)");
            }
            else
            {
                value.Append(c);
            }
        }
    }

    private string ReadEscape(int line, int column)
    {
        if (AtEnd)
        {
            throw Error(line, column, "end of input after '\\' in a quoted string");
        }

        char e = Advance();
        switch (e)
        {
            case '"': return "\"";
            case '\\': return "\\";
            case '/': return "/";
            case 'b': return "\b";
            case 'f': return "\f";
            case 'n': return "\n";
            case 'r': return "\r";
            case 't': return "\t";
            case 'u':
                var hex = new StringBuilder(4);
                for (int i = 0; i < 4; i++)
                {
                    if (AtEnd || !char.IsAsciiHexDigit(Peek()))
                    {
                        throw Error(line, column, "'\\u' must be followed by four hexadecimal digits");
                    }

                    hex.Append(Advance());
                }

                return ((char)int.Parse(hex.ToString(), NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToString();
            default:
                throw Error(line, column, $"'\\{e}' is not a valid escape in a quoted string (valid: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
        }
    }

    private HoconToken ReadTripleQuoted(int line, int column)
    {
        var value = new StringBuilder();
        int quotes = 0;
        while (true)
        {
            if (AtEnd)
            {
                if (quotes >= 3)
                {
                    break;
                }

                throw Error(line, column, "end of input inside a \"\"\" string (missing closing \"\"\")");
            }

            char c = Peek();
            if (c == '"')
            {
                quotes++;
            }
            else if (quotes >= 3)
            {
                break; // the last three quotes of the run close the string; any before them belong to it
            }
            else
            {
                quotes = 0;
            }

            value.Append(Advance());
        }

        value.Length -= 3;
        return new HoconToken(HoconTokenKind.QuotedString, value.ToString(), line, column) { IsTripleQuoted = true };
    }

    private HoconToken ReadSubstitution(int line, int column)
    {
        Advance(); // $
        if (Peek() != '{')
        {
            throw Error(line, column, "'$' must start a substitution '${path}' (quote it to use a literal '$')");
        }

        Advance();
        bool optional = false;
        if (Peek() == '?')
        {
            Advance();
            optional = true;
        }

        var inner = new List<HoconToken>();
        while (true)
        {
            HoconToken token = Next();
            switch (token.Kind)
            {
                case HoconTokenKind.CloseBrace:
                    return new HoconToken(HoconTokenKind.Substitution, string.Empty, line, column) { IsOptional = optional, Inner = inner };
                case HoconTokenKind.QuotedString or HoconTokenKind.UnquotedText or HoconTokenKind.Number or HoconTokenKind.Whitespace:
                    inner.Add(token);
                    break;
                case HoconTokenKind.End:
                    throw Error(line, column, "end of input inside a substitution (missing '}')");
                default:
                    throw Error(token.Line, token.Column, $"{token.Describe()} is not allowed inside a substitution '${{...}}' (it holds a path such as a.b.\"c\")");
            }
        }
    }
}
