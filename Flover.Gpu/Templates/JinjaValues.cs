using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Flover.Gpu.Templates;

/// <summary>A variable that does not exist (Jinja's <c>Undefined</c>): renders as nothing, is falsy, fails <c>is defined</c>.</summary>
internal sealed class JinjaUndefined
{
    public static readonly JinjaUndefined Instance = new();

    private JinjaUndefined()
    {
    }
}

/// <summary>What <c>namespace(...)</c> returns: a dictionary whose attributes <c>{% set ns.x = ... %}</c> may change from inside a loop.</summary>
internal sealed class JinjaNamespace : Dictionary<string, object?>
{
    public JinjaNamespace()
        : base(StringComparer.Ordinal)
    {
    }
}

/// <summary>A function a template can call: positional and named arguments to a value.</summary>
internal delegate object? JinjaFunction(List<object?> arguments, Dictionary<string, object?> named);

/// <summary>
/// The value model of the interpreter and its conversions. Values are null (none), <see cref="JinjaUndefined"/>,
/// bool, long, double, string, <see cref="List{T}"/> of values, <see cref="Dictionary{TKey, TValue}"/>
/// of string to value (insertion-ordered), <see cref="JinjaNamespace"/> and <see cref="JinjaFunction"/>.
/// Text and JSON forms follow <c>@huggingface/jinja</c>, the reference the tests compare with.
/// </summary>
internal static class JinjaValues
{
    /// <summary>What <c>{%-</c>, <c>-%}</c> and <c>trim</c> remove: JavaScript's whitespace (Unicode spaces, line terminators, BOM).</summary>
    public static readonly char[] Whitespace = [.. Enumerable.Range(0, 0x10000).Select(c => (char)c).Where(c => char.IsWhiteSpace(c) || c == '\uFEFF')];

    /// <summary>Converts a caller's value (JSON, .NET primitives, lists, dictionaries) to the value model.</summary>
    public static object? From(object? value) => value switch
    {
        null or bool or long or double or string or JinjaFunction or JinjaUndefined => value,
        int i => (long)i,
        float f => (double)f,
        JsonElement json => FromJson(json),
        IReadOnlyDictionary<string, object?> map => map.ToDictionary(p => p.Key, p => From(p.Value), StringComparer.Ordinal),
        System.Collections.IEnumerable items => items.Cast<object?>().Select(From).ToList(),
        _ => value.ToString(),
    };

    /// <summary>Python truthiness: empty strings, lists and dictionaries, zero, none and undefined are false.</summary>
    public static bool Truthy(object? value) => value switch
    {
        null or JinjaUndefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> list => list.Count > 0,
        Dictionary<string, object?> map => map.Count > 0,
        _ => true,
    };

    /// <summary>The text <c>{{ value }}</c> writes.</summary>
    public static string ToText(object? value) => value switch
    {
        null or JinjaUndefined => string.Empty,
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FormatDouble(d),
        string s => s,
        JinjaFunction => "function",
        _ => ToJson(value, indent: null),
    };

    /// <summary>Equality as <c>==</c> sees it: numbers by value, strings ordinally, containers element by element.</summary>
    public static bool AreEqual(object? left, object? right) => (left, right) switch
    {
        (null, null) or (JinjaUndefined, JinjaUndefined) => true,
        (long a, long b) => a == b,
        (long or double, long or double) => Convert.ToDouble(left, CultureInfo.InvariantCulture) == Convert.ToDouble(right, CultureInfo.InvariantCulture),
        (string a, string b) => string.Equals(a, b, StringComparison.Ordinal),
        (bool a, bool b) => a == b,
        (List<object?> a, List<object?> b) => a.Count == b.Count && a.Zip(b).All(p => AreEqual(p.First, p.Second)),
        _ => ReferenceEquals(left, right),
    };

    /// <summary>
    /// JSON as <c>tojson</c> writes it: Python's separators (", " and ": ", or "," between items
    /// when indenting), non-ASCII characters as they are, JavaScript's escapes.
    /// </summary>
    public static string ToJson(object? value, int? indent)
    {
        var json = new StringBuilder();
        WriteJson(json, value, indent, depth: 0);
        return json.ToString();
    }

    /// <summary>A type name for messages.</summary>
    public static string TypeName(object? value) => value switch
    {
        null => "none",
        JinjaUndefined => "undefined",
        bool => "boolean",
        long => "integer",
        double => "float",
        string => "string",
        List<object?> => "list",
        JinjaNamespace => "namespace",
        Dictionary<string, object?> => "dict",
        _ => "function",
    };

    private static string FormatDouble(double d) =>
        d == Math.Floor(d) && Math.Abs(d) < 1e21 ? d.ToString("0.0", CultureInfo.InvariantCulture) : d.ToString("R", CultureInfo.InvariantCulture);

    private static object? FromJson(JsonElement json) => json.ValueKind switch
    {
        JsonValueKind.String => json.GetString(),
        JsonValueKind.Number => json.TryGetInt64(out long l) ? l : (object)json.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Array => json.EnumerateArray().Select(FromJson).ToList(),
        JsonValueKind.Object => json.EnumerateObject().Aggregate(new Dictionary<string, object?>(StringComparer.Ordinal), (map, p) => { map[p.Name] = FromJson(p.Value); return map; }),
        _ => null,
    };

    private static void WriteJson(StringBuilder json, object? value, int? indent, int depth)
    {
        switch (value)
        {
            case null or JinjaUndefined:
                json.Append("null");
                break;
            case string s:
                WriteJsonString(json, s);
                break;
            case double d:
                json.Append(d.ToString("R", CultureInfo.InvariantCulture));
                break;
            case bool or long:
                json.Append(ToText(value));
                break;
            case List<object?> list:
                WriteContainer(json, '[', ']', list.Count, list.Select<object?, Action>(item => () => WriteJson(json, item, indent, depth + 1)), indent, depth);
                break;
            case Dictionary<string, object?> map:
                WriteContainer(json, '{', '}', map.Count, map.Select<KeyValuePair<string, object?>, Action>(pair => () =>
                {
                    WriteJsonString(json, pair.Key);
                    json.Append(": ");
                    WriteJson(json, pair.Value, indent, depth + 1);
                }), indent, depth);
                break;
            default:
                throw new JinjaException($"tojson cannot write a {TypeName(value)}.");
        }
    }

    private static void WriteContainer(StringBuilder json, char open, char close, int count, IEnumerable<Action> items, int? indent, int depth)
    {
        json.Append(open);
        string separator = indent is null ? ", " : ",";
        string padding = indent is int n ? "\n" + new string(' ', n * (depth + 1)) : string.Empty;
        bool first = true;
        foreach (Action item in items)
        {
            json.Append(first ? string.Empty : separator).Append(padding);
            item();
            first = false;
        }

        if (indent is int width && count > 0)
        {
            json.Append('\n').Append(' ', width * depth);
        }

        json.Append(close);
    }

    /// <summary>JavaScript's JSON.stringify escapes: quote, backslash, the short control escapes, other controls as \u00xx.</summary>
    private static void WriteJsonString(StringBuilder json, string s)
    {
        json.Append('"');
        foreach (char c in s)
        {
            _ = c switch
            {
                '"' => json.Append("\\\""),
                '\\' => json.Append("\\\\"),
                '\n' => json.Append("\\n"),
                '\r' => json.Append("\\r"),
                '\t' => json.Append("\\t"),
                '\b' => json.Append("\\b"),
                '\f' => json.Append("\\f"),
                < ' ' => json.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ => json.Append(c),
            };
        }

        json.Append('"');
    }
}
