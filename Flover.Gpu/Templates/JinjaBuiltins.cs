using System.Globalization;

namespace Flover.Gpu.Templates;

/// <summary>
/// The globals (<c>raise_exception</c>, <c>namespace</c>, <c>range</c>), attribute access with the
/// string and dictionary methods templates call (<c>strip</c>, <c>startswith</c>, <c>items</c>, <c>get</c>, ...),
/// filters and tests the chat templates of Hugging Face models use.
/// </summary>
internal static class JinjaBuiltins
{
    /// <summary>The functions every template sees.</summary>
    public static readonly IReadOnlyDictionary<string, JinjaFunction> Globals = new Dictionary<string, JinjaFunction>(StringComparer.Ordinal)
    {
        ["raise_exception"] = (arguments, _) => throw new JinjaRaisedException(arguments.Count > 0 ? JinjaValues.ToText(arguments[0]) : "raise_exception() called"),
        ["namespace"] = (arguments, named) =>
        {
            var ns = new JinjaNamespace();
            foreach ((string key, object? value) in named)
            {
                ns[key] = value;
            }

            return ns;
        },
        ["range"] = (arguments, _) =>
        {
            long[] bounds = arguments.Select(a => a is long l ? l : throw new JinjaException("range() takes integers.")).ToArray();
            (long start, long stop, long step) = bounds.Length switch
            {
                1 => (0, bounds[0], 1),
                2 => (bounds[0], bounds[1], 1),
                3 => (bounds[0], bounds[1], bounds[2]),
                _ => throw new JinjaException("range() takes one to three integers."),
            };
            var items = new List<object?>();
            for (long i = start; step > 0 ? i < stop : i > stop; i += step == 0 ? throw new JinjaException("range() step cannot be zero.") : step)
            {
                items.Add(i);
            }

            return items;
        },
    };

    /// <summary><c>target.name</c>: a dictionary entry, or a method of a string, dictionary or list.</summary>
    public static object? Member(object? target, string name, int line)
    {
        if (target is Dictionary<string, object?> map && map.TryGetValue(name, out object? value))
        {
            return value;
        }

        return (target, name) switch
        {
            (string s, "strip" or "lstrip" or "rstrip") => Function(a =>
            {
                char[] chars = a.Count > 0 && a[0] is string set ? set.ToCharArray() : JinjaValues.Whitespace;
                return name == "strip" ? s.Trim(chars) : name == "lstrip" ? s.TrimStart(chars) : s.TrimEnd(chars);
            }),
            (string s, "upper") => Function(_ => s.ToUpperInvariant()),
            (string s, "lower") => Function(_ => s.ToLowerInvariant()),
            (string s, "title") => Function(_ => Title(s)),
            (string s, "capitalize") => Function(_ => Capitalize(s)),
            (string s, "startswith") => Function(a => a.Count > 0 && a[0] is string p && s.StartsWith(p, StringComparison.Ordinal)),
            (string s, "endswith") => Function(a => a.Count > 0 && a[0] is string p && s.EndsWith(p, StringComparison.Ordinal)),
            (string s, "replace") => Function(a => s.Replace(JinjaValues.ToText(a[0]), JinjaValues.ToText(a[1]), StringComparison.Ordinal)),
            (string s, "split") => Function(a => (a.Count > 0 && a[0] is string sep
                ? s.Split(sep)
                : s.Split(JinjaValues.Whitespace, StringSplitOptions.RemoveEmptyEntries)).Select(p => (object?)p).ToList()),
            (Dictionary<string, object?> d, "items") => Function(_ => d.Select(p => (object?)new List<object?> { p.Key, p.Value }).ToList()),
            (Dictionary<string, object?> d, "keys") => Function(_ => d.Keys.Select(k => (object?)k).ToList()),
            (Dictionary<string, object?> d, "values") => Function(_ => d.Values.ToList()),
            (Dictionary<string, object?> d, "get") => Function(a => d.TryGetValue(JinjaValues.ToText(a[0]), out object? v) ? v : a.Count > 1 ? a[1] : null),
            (Dictionary<string, object?>, _) => JinjaUndefined.Instance,
            (JinjaUndefined or null, _) => throw new JinjaException($"line {line}: cannot read '{name}' of an {JinjaValues.TypeName(target)} value."),
            _ => JinjaUndefined.Instance,
        };
    }

    /// <summary><c>value | name(arguments)</c>.</summary>
    public static object? Filter(string name, object? value, List<object?> arguments, Dictionary<string, object?> named, int line)
    {
        object? Argument(int index, string key, object? otherwise) =>
            named.TryGetValue(key, out object? v) ? v : index < arguments.Count ? arguments[index] : otherwise;
        return (name, value) switch
        {
            ("tojson", _) => JinjaValues.ToJson(value, Argument(0, "indent", null) is long indent ? (int)indent : null),
            ("trim", string s) => s.Trim(JinjaValues.Whitespace),
            ("upper", string s) => s.ToUpperInvariant(),
            ("lower", string s) => s.ToLowerInvariant(),
            ("title", string s) => Title(s),
            ("capitalize", string s) => Capitalize(s),
            ("length" or "count", string s) => (long)s.Length,
            ("length" or "count", List<object?> list) => (long)list.Count,
            ("length" or "count", Dictionary<string, object?> map) => (long)map.Count,
            ("string", _) => JinjaValues.ToText(value),
            ("int", _) => value switch
            {
                long l => l,
                double d => (long)d,
                string s when long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long l) => l,
                _ => 0L,
            },
            ("first", List<object?> list) => list.Count > 0 ? list[0] : JinjaUndefined.Instance,
            ("last", List<object?> list) => list.Count > 0 ? list[^1] : JinjaUndefined.Instance,
            ("first", string s) => s.Length > 0 ? s[..1] : JinjaUndefined.Instance,
            ("last", string s) => s.Length > 0 ? s[^1..] : JinjaUndefined.Instance,
            ("reverse", List<object?> list) => Enumerable.Reverse(list).ToList(),
            ("reverse", string s) => new string(s.Reverse().ToArray()),
            ("list", List<object?> list) => list.ToList(),
            ("list", string s) => s.Select(c => (object?)c.ToString()).ToList(),
            ("join", List<object?> list) => string.Join(JinjaValues.ToText(Argument(0, "d", string.Empty)), list.Select(JinjaValues.ToText)),
            ("replace", string s) => s.Replace(JinjaValues.ToText(arguments[0]), JinjaValues.ToText(arguments[1]), StringComparison.Ordinal),
            ("items", Dictionary<string, object?> map) => map.Select(p => (object?)new List<object?> { p.Key, p.Value }).ToList(),
            ("default" or "d", _) => value is JinjaUndefined || (JinjaValues.Truthy(Argument(1, "boolean", false)) && !JinjaValues.Truthy(value))
                ? Argument(0, "default_value", string.Empty)
                : value,
            ("selectattr" or "rejectattr", List<object?> list) => list.Where(item =>
                {
                    object? attribute = Member(item, JinjaValues.ToText(arguments[0]), line);
                    bool passed = arguments.Count > 1
                        ? Test(JinjaValues.ToText(arguments[1]), attribute, arguments.Count > 2 ? arguments[2] : JinjaUndefined.Instance, line)
                        : JinjaValues.Truthy(attribute);
                    return passed == (name == "selectattr");
                }).ToList(),
            ("map", List<object?> list) when named.TryGetValue("attribute", out object? attribute) =>
                list.Select(item => Member(item, JinjaValues.ToText(attribute), line)).ToList(),
            _ => throw new JinjaException($"line {line}: the filter '{name}' is not supported for a {JinjaValues.TypeName(value)}."),
        };
    }

    /// <summary><c>value is name [argument]</c>.</summary>
    public static bool Test(string name, object? value, object? argument, int line) => name switch
    {
        "defined" => value is not JinjaUndefined,
        "undefined" => value is JinjaUndefined,
        "none" => value is null,
        "string" => value is string,
        "number" => value is long or double,
        "integer" => value is long,
        "float" => value is double,
        "boolean" => value is bool,
        "true" => value is true,
        "false" => value is false,
        "mapping" => value is Dictionary<string, object?>,
        "sequence" or "iterable" => value is List<object?> or string or Dictionary<string, object?>,
        "callable" => value is JinjaFunction,
        "even" => value is long l && l % 2 == 0,
        "odd" => value is long l && l % 2 != 0,
        "divisibleby" => value is long l && argument is long d && d != 0 && l % d == 0,
        "lower" => value is string s && s == s.ToLowerInvariant(),
        "upper" => value is string s && s == s.ToUpperInvariant(),
        "equalto" or "eq" or "==" => JinjaValues.AreEqual(value, argument),
        "ne" or "!=" => !JinjaValues.AreEqual(value, argument),
        _ => throw new JinjaException($"line {line}: the test '{name}' is not supported."),
    };

    private static JinjaFunction Function(Func<List<object?>, object?> body) => (arguments, _) => body(arguments);

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    private static string Title(string s)
    {
        var chars = s.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            bool start = i == 0 || !char.IsLetterOrDigit(chars[i - 1]);
            chars[i] = start ? char.ToUpperInvariant(chars[i]) : char.ToLowerInvariant(chars[i]);
        }

        return new string(chars);
    }
}
