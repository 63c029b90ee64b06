using System.Globalization;

namespace Flover.Configuration;

/// <summary>
/// Splits HOCON text into tokens. Follows the reference implementation's lexical rules:
/// Unicode whitespace (and the BOM) is whitespace but only LF is a newline; a number is read
/// greedily from <c>-</c> or a digit and falls back to unquoted text when it does not parse
/// (<c>1.2.3</c>, <c>127.0.0.1</c>); <c>"""</c> strings are raw and end at the last three of a
/// run of quotes.
/// </summary>
internal sealed partial class HoconTokenizer
{
    /// <summary>Characters that may not appear in unquoted text.</summary>
    public const string ReservedCharacters = "$\"{}[]:=,+#`^?!@*&\\";

    private readonly string _text;
    private readonly string _source;
    private int _position;
    private int _line = 1;
    private int _column = 1;

    public HoconTokenizer(string text, string source)
    {
        _text = text;
        _source = source;
    }

    /// <summary>Tokenizes the whole text; the list always ends with an <see cref="HoconTokenKind.End"/> token.</summary>
    public static List<HoconToken> Tokenize(string text, string source)
    {
        var tokenizer = new HoconTokenizer(text, source);
        var tokens = new List<HoconToken>();
        HoconToken token;
        do
        {
            token = tokenizer.Next();
            tokens.Add(token);
        }
        while (token.Kind != HoconTokenKind.End);
        return tokens;
    }

    public static bool IsWhitespace(char c) => c switch
    {
        '\n' => false,
        ' ' or '\t' or '\r' or '\v' or '\f' or '\uFEFF' or '\u001C' or '\u001D' or '\u001E' or '\u001F' => true,
        _ => char.GetUnicodeCategory(c) is UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator,
    };

    private char Peek(int offset = 0) => _position + offset < _text.Length ? _text[_position + offset] : '\0';

    private bool AtEnd => _position >= _text.Length;

    private char Advance()
    {
        char c = _text[_position++];
        if (c == '\n')
        {
            _line++;
            _column = 1;
        }
        else
        {
            _column++;
        }

        return c;
    }

    private ConfigurationException Error(int line, int column, string message) => new(new ConfigOrigin(_source, line, column), message);

    private HoconToken Next()
    {
        if (AtEnd)
        {
            return new HoconToken(HoconTokenKind.End, string.Empty, _line, _column);
        }

        int line = _line;
        int column = _column;
        char c = Peek();
        switch (c)
        {
            case '\n':
                Advance();
                return new HoconToken(HoconTokenKind.Newline, "\n", line, column);
            case '{':
                Advance();
                return new HoconToken(HoconTokenKind.OpenBrace, "{", line, column);
            case '}':
                Advance();
                return new HoconToken(HoconTokenKind.CloseBrace, "}", line, column);
            case '[':
                Advance();
                return new HoconToken(HoconTokenKind.OpenBracket, "[", line, column);
            case ']':
                Advance();
                return new HoconToken(HoconTokenKind.CloseBracket, "]", line, column);
            case ',':
                Advance();
                return new HoconToken(HoconTokenKind.Comma, ",", line, column);
            case ':':
                Advance();
                return new HoconToken(HoconTokenKind.Colon, ":", line, column);
            case '=':
                Advance();
                return new HoconToken(HoconTokenKind.Equals, "=", line, column);
            case '+' when Peek(1) == '=':
                Advance();
                Advance();
                return new HoconToken(HoconTokenKind.PlusEquals, "+=", line, column);
            case '#':
                return ReadComment(line, column, 1);
            case '/' when Peek(1) == '/':
                return ReadComment(line, column, 2);
            case '"':
                return ReadQuoted(line, column);
            case '$':
                return ReadSubstitution(line, column);
        }

        if (IsWhitespace(c))
        {
            int start = _position;
            while (!AtEnd && IsWhitespace(Peek()))
            {
                Advance();
            }

            return new HoconToken(HoconTokenKind.Whitespace, _text[start.._position], line, column);
        }

        if (c == '-' || char.IsAsciiDigit(c))
        {
            return ReadNumber(line, column);
        }

        if (ReservedCharacters.Contains(c, StringComparison.Ordinal))
        {
            throw Error(line, column, $"reserved character '{c}' is not allowed outside quotes (quote the value: \"...\")");
        }

        return ReadUnquoted(line, column);
    }

    private HoconToken ReadComment(int line, int column, int markerLength)
    {
        for (int i = 0; i < markerLength; i++)
        {
            Advance();
        }

        int start = _position;
        while (!AtEnd && Peek() != '\n')
        {
            Advance();
        }

        return new HoconToken(HoconTokenKind.Comment, _text[start.._position], line, column);
    }

    private HoconToken ReadUnquoted(int line, int column)
    {
        int start = _position;
        while (!AtEnd)
        {
            char c = Peek();
            if (c == '\n' || IsWhitespace(c) || ReservedCharacters.Contains(c, StringComparison.Ordinal) || (c == '/' && Peek(1) == '/'))
            {
                break;
            }

            Advance();
        }

        return new HoconToken(HoconTokenKind.UnquotedText, _text[start.._position], line, column);
    }

    private HoconToken ReadNumber(int line, int column)
    {
        int start = _position;
        while (!AtEnd && "0123456789eE+-.".Contains(Peek(), StringComparison.Ordinal))
        {
            Advance();
        }

        string text = _text[start.._position];
        bool isNumber = text.AsSpan().IndexOfAny(".eE") >= 0
            ? ConfigScalar.ParseDouble(text) is not null
            : ConfigScalar.ParseLong(text) is not null;
        if (isNumber)
        {
            return new HoconToken(HoconTokenKind.Number, text, line, column);
        }

        int plus = text.IndexOf('+', StringComparison.Ordinal);
        if (plus >= 0)
        {
            throw Error(line, column + plus, $"reserved character '+' is not allowed outside quotes in '{text}' (quote the value: \"{text}\")");
        }

        // Not a number after all (1.2.3, 127.0.0.1, a lone '-'): unquoted text, as in the reference implementation.
        return new HoconToken(HoconTokenKind.UnquotedText, text, line, column);
    }
}
