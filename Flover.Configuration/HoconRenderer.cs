using System.Globalization;
using System.Text;

namespace Flover.Configuration;

/// <summary>Output syntax of <see cref="HoconRenderer"/>.</summary>
internal enum HoconRenderOptions
{
    /// <summary>HOCON: unbraced root, <c>key = value</c>, keys quoted only where needed.</summary>
    Hocon,

    /// <summary>Strict JSON, two-space indentation.</summary>
    Json,
}

/// <summary>Renders resolved values as HOCON or JSON text that parses back to equal values.</summary>
internal static class HoconRenderer
{
    /// <summary>Renders a root object as a document (HOCON without the outer braces).</summary>
    public static string RenderDocument(ConfigObject root, HoconRenderOptions options)
    {
        if (options == HoconRenderOptions.Json)
        {
            return RenderValue(root, options);
        }

        var text = new StringBuilder();
        foreach (KeyValuePair<string, ConfigValue> field in root)
        {
            RenderField(text, field.Key, field.Value, 0);
        }

        return text.ToString();
    }

    /// <summary>Renders one value (objects braced).</summary>
    public static string RenderValue(ConfigValue value, HoconRenderOptions options)
    {
        var text = new StringBuilder();
        Render(text, value, 0, options);
        return text.ToString();
    }

    /// <summary>A JSON string literal (valid in HOCON too).</summary>
    public static string Quote(string text)
    {
        var result = new StringBuilder(text.Length + 2).Append('"');
        foreach (char c in text)
        {
            switch (c)
            {
                case '"': result.Append("\\\""); break;
                case '\\': result.Append("\\\\"); break;
                case '\n': result.Append("\\n"); break;
                case '\r': result.Append("\\r"); break;
                case '\t': result.Append("\\t"); break;
                case '\b': result.Append("\\b"); break;
                case '\f': result.Append("\\f"); break;
                default:
                    if (c < ' ' || c is '\u2028' or '\u2029')
                    {
                        result.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        result.Append(c);
                    }

                    break;
            }
        }

        return result.Append('"').ToString();
    }

    private static void RenderField(StringBuilder text, string key, ConfigValue value, int indent)
    {
        text.Append(' ', indent * 4).Append(HoconPath.RenderKey(key));
        text.Append(value is ConfigObject ? " " : " = ");
        Render(text, value, indent, HoconRenderOptions.Hocon);
        text.Append('\n');
    }

    private static void Render(StringBuilder text, ConfigValue value, int indent, HoconRenderOptions options)
    {
        switch (value)
        {
            case ConfigScalar { ValueType: ConfigValueType.String } s:
                text.Append(Quote(s.Text));
                break;
            case ConfigScalar { ValueType: ConfigValueType.Number } n when options == HoconRenderOptions.Json:
                // HOCON keeps a number's spelling (007, 1.); JSON needs the canonical form.
                text.Append(ConfigScalar.ParseLong(n.Text)?.ToString(CultureInfo.InvariantCulture)
                    ?? ConfigScalar.ParseDouble(n.Text)?.ToString("R", CultureInfo.InvariantCulture)
                    ?? n.Text);
                break;
            case ConfigScalar s:
                text.Append(s.Text);
                break;
            case ConfigList list:
                RenderList(text, list, indent, options);
                break;
            case ConfigObject obj:
                RenderObject(text, obj, indent, options);
                break;
            default:
                throw new InvalidOperationException("Only resolved values can be rendered.");
        }
    }

    private static void RenderList(StringBuilder text, ConfigList list, int indent, HoconRenderOptions options)
    {
        if (list.All(v => v is ConfigScalar))
        {
            text.Append('[');
            for (int i = 0; i < list.Count; i++)
            {
                text.Append(i == 0 ? string.Empty : ", ");
                Render(text, list[i], indent, options);
            }

            text.Append(']');
            return;
        }

        int step = options == HoconRenderOptions.Json ? 2 : 4;
        text.Append("[\n");
        for (int i = 0; i < list.Count; i++)
        {
            text.Append(' ', (indent + 1) * step);
            Render(text, list[i], indent + 1, options);
            text.Append(i < list.Count - 1 ? ",\n" : "\n");
        }

        text.Append(' ', indent * step).Append(']');
    }

    private static void RenderObject(StringBuilder text, ConfigObject obj, int indent, HoconRenderOptions options)
    {
        if (obj.Count == 0)
        {
            text.Append("{}");
            return;
        }

        text.Append("{\n");
        if (options == HoconRenderOptions.Hocon)
        {
            foreach (KeyValuePair<string, ConfigValue> field in obj)
            {
                RenderField(text, field.Key, field.Value, indent + 1);
            }

            text.Append(' ', indent * 4).Append('}');
            return;
        }

        int i = 0;
        foreach (KeyValuePair<string, ConfigValue> field in obj)
        {
            text.Append(' ', (indent + 1) * 2).Append(Quote(field.Key)).Append(": ");
            Render(text, field.Value, indent + 1, options);
            text.Append(++i < obj.Count ? ",\n" : "\n");
        }

        text.Append(' ', indent * 2).Append('}');
    }
}
