namespace Flover.Configuration;

/// <summary>
/// Parses one HOCON (or JSON) document into an unresolved object: duplicate keys and path keys
/// are merged as they are read, includes are loaded and merged in place, and substitutions stay
/// as placeholders for <see cref="HoconResolver"/>.
/// </summary>
internal sealed partial class HoconParser
{
    private readonly List<HoconToken> _tokens;
    private readonly ParseContext _context;
    private readonly List<string> _path = [];
    private int _index;
    private int _listDepth;
    private int _nesting;

    /// <summary>Objects and lists nested deeper than this are rejected rather than risking a stack overflow.</summary>
    public const int MaxNesting = 512;

    private HoconParser(List<HoconToken> tokens, ParseContext context)
    {
        _tokens = tokens;
        _context = context;
    }

    /// <summary>Parses a whole document; its root must be an object (braces optional).</summary>
    public static ConfigObject Parse(string text, ParseContext context)
    {
        var parser = new HoconParser(HoconTokenizer.Tokenize(text, context.Description), context);
        return parser.ParseRoot();
    }

    /// <summary>Parses text that must hold exactly one field (<c>key = value</c> on one line), as <c>--set</c> gives it.</summary>
    public static ConfigObject ParseSingleField(string text, ParseContext context)
    {
        var parser = new HoconParser(HoconTokenizer.Tokenize(text, context.Description), context);
        parser.SkipBlank(newlines: false);
        HoconToken start = parser.Peek;
        var fields = new OrderedDictionary<string, ConfigValue>();
        parser.ParseField(fields, []);
        parser.SkipBlank(newlines: false);
        if (parser.Peek.Kind != HoconTokenKind.End)
        {
            throw parser.Error(parser.Peek, $"unexpected {parser.Peek.Describe()} after the value: give one key=value per --set (quote values with spaces or commas)");
        }

        return new ConfigObject(parser.OriginOf(start), fields);
    }

    private HoconToken Peek => _tokens[_index];

    private HoconToken Take() => _tokens[_index++];

    private ConfigOrigin OriginOf(HoconToken token) => token.Origin(_context.Description);

    private ConfigurationException Error(HoconToken token, string message) => new(OriginOf(token), message);

    private ConfigObject ParseRoot()
    {
        List<string> comments = SkipBlank(newlines: true);
        HoconToken first = Peek;
        ConfigObject root;
        if (first.Kind == HoconTokenKind.OpenBrace)
        {
            Take();
            root = ParseObjectBody(first, braced: true, comments);
            SkipBlank(newlines: true);
            if (Peek.Kind != HoconTokenKind.End)
            {
                throw Error(Peek, $"unexpected {Peek.Describe()} after the closing '}}' of the root object");
            }
        }
        else if (first.Kind == HoconTokenKind.OpenBracket)
        {
            throw Error(first, "a configuration document must be an object, not a list");
        }
        else
        {
            root = ParseObjectBody(first, braced: false, comments);
        }

        return root;
    }

    /// <summary>Skips whitespace and comments (and newlines when allowed); returns the comment lines of the last paragraph.</summary>
    private List<string> SkipBlank(bool newlines)
    {
        var comments = new List<string>();
        bool lineIsBlank = true;
        while (true)
        {
            switch (Peek.Kind)
            {
                case HoconTokenKind.Whitespace:
                    break;
                case HoconTokenKind.Comment:
                    if (StartsItsLine(_index))
                    {
                        comments.Add(Peek.Text.Trim()); // a comment after a value or '{' on the same line documents nothing below
                    }

                    lineIsBlank = false;
                    break;
                case HoconTokenKind.Newline when newlines:
                    if (lineIsBlank)
                    {
                        comments.Clear(); // a blank line separates a comment from the field below
                    }

                    lineIsBlank = true;
                    break;
                default:
                    return comments;
            }

            Take();
        }
    }

    private bool StartsItsLine(int index)
    {
        int i = index - 1;
        while (i >= 0 && _tokens[i].Kind == HoconTokenKind.Whitespace)
        {
            i--;
        }

        return i < 0 || _tokens[i].Kind == HoconTokenKind.Newline;
    }

    /// <summary>
    /// After a field or element: a comma, or a newline, or the closing token. Returns the comment
    /// lines met on the way, which document the next field.
    /// </summary>
    private List<string> ExpectSeparator(HoconTokenKind closing, string what)
    {
        SkipBlank(newlines: false);
        bool sawNewline = Peek.Kind == HoconTokenKind.Newline;
        List<string> comments = SkipBlank(newlines: true);
        if (Peek.Kind == HoconTokenKind.Comma)
        {
            Take();
            return [];
        }

        if (sawNewline || Peek.Kind == closing || Peek.Kind == HoconTokenKind.End)
        {
            return comments;
        }

        throw Error(Peek, $"expected ',' or a newline after {what} but found {Peek.Describe()}");
    }

    private ConfigObject ParseObjectBody(HoconToken opening, bool braced, List<string> firstComments)
    {
        EnterNesting(opening);
        try
        {
            return ParseFields(opening, braced, firstComments);
        }
        finally
        {
            _nesting--;
        }
    }

    private void EnterNesting(HoconToken opening)
    {
        if (++_nesting > MaxNesting)
        {
            throw Error(opening, $"objects and lists are nested more than {MaxNesting} deep");
        }
    }

    private ConfigObject ParseFields(HoconToken opening, bool braced, List<string> firstComments)
    {
        var fields = new OrderedDictionary<string, ConfigValue>();
        List<string> comments = firstComments;
        while (true)
        {
            comments.AddRange(SkipBlank(newlines: true));
            HoconToken token = Peek;
            if (token.Kind == HoconTokenKind.End)
            {
                if (braced)
                {
                    throw Error(token, $"end of input: the object opened at {OriginOf(opening)} has no closing '}}'");
                }

                break;
            }

            if (token.Kind == HoconTokenKind.CloseBrace)
            {
                if (!braced)
                {
                    throw Error(token, "unbalanced '}': there is no '{' for it to close");
                }

                Take();
                break;
            }

            if (token.Kind == HoconTokenKind.Comma)
            {
                throw Error(token, "unexpected ',': a comma must follow a field (no leading or doubled commas)");
            }

            if (token is { Kind: HoconTokenKind.UnquotedText, Text: "include" })
            {
                ParseInclude(fields);
                comments = ExpectSeparator(braced ? HoconTokenKind.CloseBrace : HoconTokenKind.End, "an include");
            }
            else
            {
                ParseField(fields, comments);
                comments = ExpectSeparator(braced ? HoconTokenKind.CloseBrace : HoconTokenKind.End, "a field");
            }
        }

        return new ConfigObject(OriginOf(opening), fields);
    }
}
