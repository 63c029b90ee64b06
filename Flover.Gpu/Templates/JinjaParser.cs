namespace Flover.Gpu.Templates;

/// <summary>
/// Parses the tokens of <see cref="JinjaLexer"/> into statements and expressions, with Jinja's
/// operator precedence (conditional, or, and, not, comparisons and tests, + -, ~, * / // %, **,
/// unary, then postfix: attribute, index, slice, call, filter). Tags a chat template does not
/// need (macro, call, block, include, ...) fail with one line naming the tag.
/// </summary>
internal sealed partial class JinjaParser
{
    private readonly List<JinjaToken> _tokens;
    private int _position;

    private JinjaParser(List<JinjaToken> tokens) => _tokens = tokens;

    private JinjaToken Current => _tokens[_position];

    /// <summary>Parses a whole template.</summary>
    /// <exception cref="JinjaException">A syntax error or an unsupported tag, naming the line.</exception>
    public static List<JinjaNode> Parse(string source)
    {
        var parser = new JinjaParser(JinjaLexer.Tokenize(source));
        (List<JinjaNode> body, string? end) = parser.ParseBlock();
        return end is null ? body : throw new JinjaException($"line {parser.Current.Line}: '{end}' without its opening tag.");
    }

    /// <summary>Parses statements up to one of <paramref name="endTags"/> (consumed, and returned) or the end of the template.</summary>
    private (List<JinjaNode> Body, string? EndTag) ParseBlock(params string[] endTags)
    {
        var body = new List<JinjaNode>();
        while (Current.Kind != JinjaTokenKind.End)
        {
            JinjaToken token = Next();
            switch (token.Kind)
            {
                case JinjaTokenKind.Text:
                    body.Add(new TextNode(token.Value, token.Line));
                    break;
                case JinjaTokenKind.OpenExpression:
                    body.Add(new OutputNode(ParseExpression(), token.Line));
                    Expect(JinjaTokenKind.CloseExpression, "}}");
                    break;
                case JinjaTokenKind.OpenStatement:
                    string keyword = Expect(JinjaTokenKind.Identifier, "a tag name").Value;
                    if (endTags.Contains(keyword))
                    {
                        return (body, keyword);
                    }

                    body.Add(ParseStatement(keyword, token.Line));
                    break;
                default:
                    throw Error($"unexpected '{token.Value}'");
            }
        }

        return endTags.Length == 0 ? (body, null) : throw Error($"the template ends before {{% {endTags[^1]} %}}");
    }

    private JinjaNode ParseStatement(string keyword, int line)
    {
        switch (keyword)
        {
            case "if":
                return ParseIf(line);
            case "for":
                return ParseFor(line);
            case "set":
                return ParseSet(line);
            case "break" or "continue":
                Expect(JinjaTokenKind.CloseStatement, "%}");
                return new LoopControlNode(keyword == "break", line);
            case "elif" or "else" or "endif" or "endfor" or "endset":
                throw Error($"'{keyword}' without its opening tag");
            default:
                throw Error($"the tag '{keyword}' is not supported");
        }
    }

    private IfNode ParseIf(int line)
    {
        JinjaNode test = ParseExpression();
        Expect(JinjaTokenKind.CloseStatement, "%}");
        (List<JinjaNode> then, string? end) = ParseBlock("elif", "else", "endif");
        List<JinjaNode> otherwise = [];
        if (end == "elif")
        {
            otherwise.Add(ParseIf(Current.Line));
        }
        else if (end == "else")
        {
            Expect(JinjaTokenKind.CloseStatement, "%}");
            (otherwise, _) = ParseBlock("endif");
            Expect(JinjaTokenKind.CloseStatement, "%}");
        }
        else
        {
            Expect(JinjaTokenKind.CloseStatement, "%}");
        }

        return new IfNode(test, then, otherwise, line);
    }

    private ForNode ParseFor(int line)
    {
        var targets = new List<string> { Expect(JinjaTokenKind.Identifier, "a loop variable").Value };
        while (Accept(","))
        {
            targets.Add(Expect(JinjaTokenKind.Identifier, "a loop variable").Value);
        }

        ExpectWord("in");
        JinjaNode items = ParseOr();
        JinjaNode? filter = AcceptWord("if") ? ParseOr() : null;
        Expect(JinjaTokenKind.CloseStatement, "%}");
        (List<JinjaNode> body, string? end) = ParseBlock("else", "endfor");
        List<JinjaNode> empty = [];
        if (end == "else")
        {
            Expect(JinjaTokenKind.CloseStatement, "%}");
            (empty, _) = ParseBlock("endfor");
        }

        Expect(JinjaTokenKind.CloseStatement, "%}");
        return new ForNode(targets, items, filter, body, empty, line);
    }

    private SetNode ParseSet(int line)
    {
        JinjaNode target = new NameNode(Expect(JinjaTokenKind.Identifier, "a variable").Value, line);
        if (Accept("."))
        {
            target = new AttributeNode(target, Expect(JinjaTokenKind.Identifier, "an attribute").Value, line);
        }

        if (Accept("="))
        {
            JinjaNode value = ParseExpression();
            Expect(JinjaTokenKind.CloseStatement, "%}");
            return new SetNode(target, value, null, line);
        }

        Expect(JinjaTokenKind.CloseStatement, "%}");
        (List<JinjaNode> body, _) = ParseBlock("endset");
        Expect(JinjaTokenKind.CloseStatement, "%}");
        return new SetNode(target, null, body, line);
    }
}
