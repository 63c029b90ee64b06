using System.Text;

namespace Flover.Configuration;

internal sealed partial class HoconParser
{
    private void ParseInclude(OrderedDictionary<string, ConfigValue> fields)
    {
        HoconToken keyword = Take();
        if (_listDepth > 0)
        {
            throw Error(keyword, "include is not supported inside an object inside a list (a limitation shared with the reference implementation): move the include out of the list");
        }

        SkipBlank(newlines: true);

        // The wrappers are unquoted text ending in '(' (the tokenizer keeps "required(file(" together).
        var opening = new StringBuilder();
        while (Peek.Kind is HoconTokenKind.UnquotedText or HoconTokenKind.Whitespace)
        {
            opening.Append(Take().Text.Trim());
        }

        HoconToken nameToken = Peek;
        if (nameToken.Kind != HoconTokenKind.QuotedString)
        {
            throw Error(nameToken, $"include must be followed by a quoted name, optionally wrapped in file(), classpath(), url() or required(), but found {nameToken.Describe()}");
        }

        Take();
        (IncludeKind kind, bool required, int parentheses) = ParseWrappers(opening.ToString(), keyword);
        var closing = new StringBuilder();
        while (closing.Length < parentheses && Peek.Kind is HoconTokenKind.UnquotedText or HoconTokenKind.Whitespace)
        {
            closing.Append(Take().Text.Trim());
        }

        if (closing.ToString() != new string(')', parentheses))
        {
            throw Error(Peek, $"include: expected {new string(')', parentheses)} after \"{nameToken.Text}\" but found {(closing.Length > 0 ? $"'{closing}'" : Peek.Describe())}");
        }

        var includer = new HoconIncluder(_context, OriginOf(keyword));
        ConfigObject? included = includer.Include(kind, nameToken.Text, required);
        if (included is null)
        {
            return;
        }

        ConfigObject rooted = (ConfigObject)Relativizer.Relativize(included, _path.ToArray());
        foreach (KeyValuePair<string, ConfigValue> field in rooted)
        {
            fields[field.Key] = fields.TryGetValue(field.Key, out ConfigValue? existing) ? ConfigMerge.Merge(existing, field.Value) : field.Value;
        }
    }

    private (IncludeKind Kind, bool Required, int Parentheses) ParseWrappers(string opening, HoconToken at)
    {
        string rest = opening;
        bool required = false;
        int parentheses = 0;
        if (rest.StartsWith("required(", StringComparison.Ordinal))
        {
            required = true;
            parentheses++;
            rest = rest["required(".Length..];
        }

        IncludeKind kind;
        switch (rest)
        {
            case "":
                kind = IncludeKind.Heuristic;
                break;
            case "file(":
                kind = IncludeKind.File;
                break;
            case "classpath(":
                kind = IncludeKind.Classpath;
                break;
            case "url(":
                kind = IncludeKind.Url;
                break;
            default:
                throw Error(at, $"include: unknown form '{opening}' (use \"name\", file(\"...\"), classpath(\"...\"), url(\"...\") or required(...))");
        }

        if (kind != IncludeKind.Heuristic)
        {
            parentheses++;
        }

        return (kind, required, parentheses);
    }
}
