namespace Flover.Configuration;

internal sealed partial class HoconParser
{
    private void ParseField(OrderedDictionary<string, ConfigValue> fields, List<string> comments)
    {
        HoconToken keyStart = Peek;
        var keyTokens = new List<HoconToken>();
        while (Peek.Kind is HoconTokenKind.UnquotedText or HoconTokenKind.QuotedString or HoconTokenKind.Number or HoconTokenKind.Whitespace)
        {
            keyTokens.Add(Take());
        }

        if (keyTokens.Count == 0)
        {
            string hint = Peek.Kind == HoconTokenKind.Substitution ? " (substitutions are not allowed in keys)" : string.Empty;
            throw Error(Peek, $"expected a key but found {Peek.Describe()}{hint}");
        }

        IReadOnlyList<string> key = HoconPath.FromTokens(keyTokens, OriginOf(keyStart));
        SkipBlank(newlines: true);
        HoconToken separator = Peek;
        bool append = false;
        switch (separator.Kind)
        {
            case HoconTokenKind.Colon or HoconTokenKind.Equals:
                Take();
                SkipBlank(newlines: true);
                break;
            case HoconTokenKind.PlusEquals:
                Take();
                SkipBlank(newlines: true);
                append = true;
                break;
            case HoconTokenKind.OpenBrace:
                break;
            case HoconTokenKind.Substitution:
                throw Error(separator, $"substitutions are not allowed in keys (after '{HoconPath.Render(key)}')");
            default:
                throw Error(separator, $"key '{HoconPath.Render(key)}' must be followed by ':', '=', '+=' or '{{' but found {separator.Describe()}");
        }

        _path.AddRange(key);
        ConfigValue value;
        try
        {
            value = ParseValue();
            if (append)
            {
                // a += b means a = ${?a} [b]: the optional self-reference sees a's previous value.
                var self = new Substitution(value.Origin, _path.ToArray(), isOptional: true, prefix: []);
                value = new Concatenation(value.Origin, [self, new ConfigList(value.Origin, [value])]);
            }
        }
        finally
        {
            _path.RemoveRange(_path.Count - key.Count, key.Count);
        }

        value = value.WithOrigin(value.Origin with { Comments = comments.ToArray() });
        for (int i = key.Count - 1; i >= 1; i--)
        {
            value = new ConfigObject(value.Origin, new OrderedDictionary<string, ConfigValue> { [key[i]] = value });
        }

        fields[key[0]] = fields.TryGetValue(key[0], out ConfigValue? existing) ? ConfigMerge.Merge(existing, value) : value;
    }

    /// <summary>Parses a value: one or more values side by side on one line, concatenated.</summary>
    private ConfigValue ParseValue()
    {
        HoconToken start = Peek;
        var pieces = new List<ConfigValue>();
        bool done = false;
        while (!done)
        {
            HoconToken token = Peek;
            switch (token.Kind)
            {
                case HoconTokenKind.QuotedString:
                    Take();
                    pieces.Add(ConfigScalar.String(OriginOf(token), token.Text));
                    break;
                case HoconTokenKind.UnquotedText:
                    Take();
                    pieces.Add(ConfigScalar.String(OriginOf(token), token.Text, isQuoted: false));
                    break;
                case HoconTokenKind.Number:
                    Take();
                    pieces.Add(ConfigScalar.Number(OriginOf(token), token.Text));
                    break;
                case HoconTokenKind.Substitution:
                    Take();
                    pieces.Add(new Substitution(OriginOf(token), HoconPath.FromTokens(token.Inner, OriginOf(token)), token.IsOptional, []));
                    break;
                case HoconTokenKind.OpenBrace:
                    Take();
                    pieces.Add(ParseObjectBody(token, braced: true, []));
                    break;
                case HoconTokenKind.OpenBracket:
                    Take();
                    pieces.Add(ParseList(token));
                    break;
                case HoconTokenKind.Whitespace when pieces.Count > 0:
                    Take();
                    pieces.Add(ConfigScalar.Whitespace(OriginOf(token), token.Text));
                    break;
                default:
                    done = true;
                    break;
            }
        }

        if (pieces.Count > 0 && pieces[^1] is ConfigScalar { IsWhitespace: true })
        {
            pieces.RemoveAt(pieces.Count - 1);
        }

        if (pieces.Count == 0)
        {
            throw Error(start, $"expected a value but found {start.Describe()}");
        }

        return pieces.Count == 1 ? Single(pieces[0]) : Concatenate(OriginOf(start), pieces);
    }

    /// <summary>A lone unquoted <c>true</c>, <c>false</c> or <c>null</c> is that keyword; inside a concatenation it is text.</summary>
    private static ConfigValue Single(ConfigValue value) => value switch
    {
        ConfigScalar { ValueType: ConfigValueType.String, IsQuoted: false, Text: "true" } s => ConfigScalar.Boolean(s.Origin, true),
        ConfigScalar { ValueType: ConfigValueType.String, IsQuoted: false, Text: "false" } s => ConfigScalar.Boolean(s.Origin, false),
        ConfigScalar { ValueType: ConfigValueType.String, IsQuoted: false, Text: "null" } s => ConfigScalar.Null(s.Origin),
        _ => value,
    };

    private static ConfigValue Concatenate(ConfigOrigin origin, List<ConfigValue> pieces)
    {
        if (pieces.All(p => p is ConfigScalar))
        {
            // Only simple values: the concatenation is a string now (numbers keep their spelling).
            return ConfigScalar.String(origin, string.Concat(pieces.Cast<ConfigScalar>().Select(p => p.Text)));
        }

        return new Concatenation(origin, pieces);
    }

    private ConfigList ParseList(HoconToken opening)
    {
        var items = new List<ConfigValue>();
        EnterNesting(opening);
        _listDepth++;
        try
        {
            while (true)
            {
                SkipBlank(newlines: true);
                HoconToken token = Peek;
                if (token.Kind == HoconTokenKind.CloseBracket)
                {
                    Take();
                    return new ConfigList(OriginOf(opening), items);
                }

                if (token.Kind == HoconTokenKind.End)
                {
                    throw Error(token, $"end of input: the list opened at {OriginOf(opening)} has no closing ']'");
                }

                if (token.Kind == HoconTokenKind.Comma)
                {
                    throw Error(token, "unexpected ',': a comma must follow a list element (no leading or doubled commas)");
                }

                items.Add(ParseValue());
                ExpectSeparator(HoconTokenKind.CloseBracket, "a list element");
            }
        }
        finally
        {
            _listDepth--;
            _nesting--;
        }
    }
}
