using System.Globalization;

namespace Flover.Gpu.Templates;

/// <summary>Expressions, from the conditional down to literals, and the token helpers.</summary>
internal sealed partial class JinjaParser
{
    private static readonly HashSet<string> s_comparisons = new(StringComparer.Ordinal) { "==", "!=", "<", ">", "<=", ">=" };

    /// <summary>An expression, including <c>a if b else c</c>; a bare <c>a, b</c> is a tuple.</summary>
    private JinjaNode ParseExpression()
    {
        JinjaNode first = ParseConditional();
        if (!IsOperator(","))
        {
            return first;
        }

        var items = new List<JinjaNode> { first };
        while (Accept(",") && !IsOperator(")") && Current.Kind is not (JinjaTokenKind.CloseExpression or JinjaTokenKind.CloseStatement))
        {
            items.Add(ParseConditional());
        }

        return new ListNode(items, first.Line);
    }

    private JinjaNode ParseConditional()
    {
        JinjaNode value = ParseOr();
        while (AcceptWord("if"))
        {
            JinjaNode test = ParseOr();
            value = new ConditionalNode(test, value, AcceptWord("else") ? ParseConditional() : null, value.Line);
        }

        return value;
    }

    private JinjaNode ParseOr()
    {
        JinjaNode left = ParseAnd();
        while (AcceptWord("or"))
        {
            left = new BinaryNode("or", left, ParseAnd(), left.Line);
        }

        return left;
    }

    private JinjaNode ParseAnd()
    {
        JinjaNode left = ParseNot();
        while (AcceptWord("and"))
        {
            left = new BinaryNode("and", left, ParseNot(), left.Line);
        }

        return left;
    }

    private JinjaNode ParseNot() => AcceptWord("not") ? new UnaryNode("not", ParseNot(), Current.Line) : ParseCompare();

    private JinjaNode ParseCompare()
    {
        JinjaNode left = ParseSum();
        while (true)
        {
            if (Current.Kind == JinjaTokenKind.Operator && s_comparisons.Contains(Current.Value))
            {
                string op = Next().Value;
                left = new BinaryNode(op, left, ParseSum(), left.Line);
            }
            else if (AcceptWord("in"))
            {
                left = new BinaryNode("in", left, ParseSum(), left.Line);
            }
            else if (IsWord("not") && _tokens[_position + 1] is { Kind: JinjaTokenKind.Identifier, Value: "in" })
            {
                _position += 2;
                left = new BinaryNode("not in", left, ParseSum(), left.Line);
            }
            else
            {
                return left;
            }
        }
    }

    private JinjaNode ParseSum() => ParseLeft(ParseConcat, "+", "-");

    private JinjaNode ParseConcat() => ParseLeft(ParseProduct, "~");

    private JinjaNode ParseProduct() => ParseLeft(ParsePower, "*", "/", "//", "%");

    private JinjaNode ParsePower() => ParseLeft(ParseUnary, "**");

    private JinjaNode ParseLeft(Func<JinjaNode> operand, params string[] operators)
    {
        JinjaNode left = operand();
        while (Current.Kind == JinjaTokenKind.Operator && operators.Contains(Current.Value))
        {
            string op = Next().Value;
            left = new BinaryNode(op, left, operand(), left.Line);
        }

        return left;
    }

    private JinjaNode ParseUnary()
    {
        if (IsOperator("-") || IsOperator("+"))
        {
            JinjaToken op = Next();
            return ParsePostfix(new UnaryNode(op.Value, ParseUnary(), op.Line));
        }

        return ParsePostfix(ParsePrimary());
    }

    /// <summary>Attributes, indexes, slices, calls, filters and tests, left to right.</summary>
    private JinjaNode ParsePostfix(JinjaNode node)
    {
        while (true)
        {
            int line = Current.Line;
            if (Accept("."))
            {
                node = new AttributeNode(node, Expect(JinjaTokenKind.Identifier, "an attribute name").Value, line);
            }
            else if (Accept("["))
            {
                node = ParseSubscript(node, line);
            }
            else if (Accept("("))
            {
                (List<JinjaNode> arguments, List<(string, JinjaNode)> named) = ParseArguments();
                node = new CallNode(node, arguments, named, line);
            }
            else if (Accept("|"))
            {
                string name = Expect(JinjaTokenKind.Identifier, "a filter name").Value;
                (List<JinjaNode> arguments, List<(string, JinjaNode)> named) = Accept("(") ? ParseArguments() : ([], []);
                node = new FilterNode(node, name, arguments, named, line);
            }
            else if (AcceptWord("is"))
            {
                bool negated = AcceptWord("not");
                string name = Expect(JinjaTokenKind.Identifier, "a test name").Value;
                JinjaNode? argument = null;
                if (Accept("("))
                {
                    argument = ParseExpression();
                    Expect(")");
                }
                else if (Current.Kind is JinjaTokenKind.String or JinjaTokenKind.Integer or JinjaTokenKind.Float
                    || (Current.Kind == JinjaTokenKind.Identifier && Current.Value is not ("and" or "or" or "else" or "if" or "in" or "not" or "is")))
                {
                    argument = ParsePrimary();
                }

                node = new TestNode(node, name, negated, argument, line);
            }
            else
            {
                return node;
            }
        }
    }

    private JinjaNode ParseSubscript(JinjaNode target, int line)
    {
        JinjaNode? start = IsOperator(":") ? null : ParseExpression();
        if (!Accept(":"))
        {
            Expect("]");
            return new IndexNode(target, start!, line);
        }

        JinjaNode? stop = IsOperator(":") || IsOperator("]") ? null : ParseExpression();
        JinjaNode? step = Accept(":") && !IsOperator("]") ? ParseExpression() : null;
        Expect("]");
        return new SliceNode(target, start, stop, step, line);
    }

    private (List<JinjaNode> Arguments, List<(string, JinjaNode)> Named) ParseArguments()
    {
        var arguments = new List<JinjaNode>();
        var named = new List<(string, JinjaNode)>();
        while (!Accept(")"))
        {
            if (Current.Kind == JinjaTokenKind.Identifier && _tokens[_position + 1] is { Kind: JinjaTokenKind.Operator, Value: "=" })
            {
                string name = Next().Value;
                _position++;
                named.Add((name, ParseConditional()));
            }
            else
            {
                arguments.Add(ParseConditional());
            }

            if (!IsOperator(")"))
            {
                Expect(",");
            }
        }

        return (arguments, named);
    }

    private JinjaNode ParsePrimary()
    {
        JinjaToken token = Next();
        switch (token.Kind)
        {
            case JinjaTokenKind.String:
                string text = token.Value;
                while (Current.Kind == JinjaTokenKind.String)
                {
                    text += Next().Value; // Adjacent literals join, as in Python.
                }

                return new LiteralNode(text, token.Line);
            case JinjaTokenKind.Integer:
                return new LiteralNode(long.Parse(token.Value, CultureInfo.InvariantCulture), token.Line);
            case JinjaTokenKind.Float:
                return new LiteralNode(double.Parse(token.Value, CultureInfo.InvariantCulture), token.Line);
            case JinjaTokenKind.Identifier:
                return token.Value switch
                {
                    "true" or "True" => new LiteralNode(true, token.Line),
                    "false" or "False" => new LiteralNode(false, token.Line),
                    "none" or "None" => new LiteralNode(null, token.Line),
                    _ => new NameNode(token.Value, token.Line),
                };
            case JinjaTokenKind.Operator when token.Value == "(":
                if (Accept(")"))
                {
                    return new ListNode([], token.Line);
                }

                JinjaNode inner = ParseExpression();
                Expect(")");
                return inner;
            case JinjaTokenKind.Operator when token.Value == "[":
                var items = new List<JinjaNode>();
                while (!Accept("]"))
                {
                    items.Add(ParseConditional());
                    if (!IsOperator("]"))
                    {
                        Expect(",");
                    }
                }

                return new ListNode(items, token.Line);
            case JinjaTokenKind.Operator when token.Value == "{":
                var pairs = new List<(JinjaNode, JinjaNode)>();
                while (!Accept("}"))
                {
                    JinjaNode key = ParseConditional();
                    Expect(":");
                    pairs.Add((key, ParseConditional()));
                    if (!IsOperator("}"))
                    {
                        Expect(",");
                    }
                }

                return new DictNode(pairs, token.Line);
            default:
                _position--;
                throw Error($"expected a value, found '{(token.Kind == JinjaTokenKind.End ? "the end" : token.Value)}'");
        }
    }

    private JinjaToken Next() => _tokens[_position < _tokens.Count - 1 ? _position++ : _position];

    private bool IsOperator(string op) => Current.Kind == JinjaTokenKind.Operator && Current.Value == op;

    private bool IsWord(string word) => Current.Kind == JinjaTokenKind.Identifier && Current.Value == word;

    private bool Accept(string op) => IsOperator(op) && Next().Value == op;

    private bool AcceptWord(string word) => IsWord(word) && Next().Value == word;

    private void Expect(string op)
    {
        if (!Accept(op))
        {
            throw Error($"expected '{op}', found '{Current.Value}'");
        }
    }

    private void ExpectWord(string word)
    {
        if (!AcceptWord(word))
        {
            throw Error($"expected '{word}', found '{Current.Value}'");
        }
    }

    private JinjaToken Expect(JinjaTokenKind kind, string what) =>
        Current.Kind == kind ? Next() : throw Error($"expected {what}, found '{(Current.Kind == JinjaTokenKind.End ? "the end" : Current.Value)}'");

    private JinjaException Error(string message) => new($"line {Current.Line}: {message}.");
}
