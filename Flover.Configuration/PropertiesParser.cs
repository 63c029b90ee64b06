using System.Globalization;
using System.Text;

namespace Flover.Configuration;

/// <summary>
/// Reads Java <c>.properties</c> files as HOCON does: keys split on every '.', values are
/// always strings, and when a key is both a value and a parent (<c>a=1</c>, <c>a.b=2</c>) the
/// object wins.
/// </summary>
internal static class PropertiesParser
{
    public static ConfigObject Parse(string text, string description)
    {
        var root = new OrderedDictionary<string, ConfigValue>();
        string[] lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            int lineNumber = i + 1;
            string line = lines[i].TrimStart(' ', '\t', '\f');
            if (line.Length == 0 || line[0] is '#' or '!')
            {
                continue;
            }

            // A line ending in an odd number of backslashes continues on the next line.
            while (EndsWithContinuation(line) && i + 1 < lines.Length)
            {
                line = string.Concat(line.AsSpan(0, line.Length - 1), lines[++i].TrimStart(' ', '\t', '\f'));
            }

            (string key, string value) = SplitLine(line);
            var origin = new ConfigOrigin(description, lineNumber, 1);
            string[] path = Unescape(key).Split('.');
            Set(root, path, 0, ConfigScalar.String(origin, Unescape(value)), origin);
        }

        return new ConfigObject(new ConfigOrigin(description, 1, 1), root);
    }

    private static bool EndsWithContinuation(string line)
    {
        int count = 0;
        for (int i = line.Length - 1; i >= 0 && line[i] == '\\'; i--)
        {
            count++;
        }

        return count % 2 == 1;
    }

    private static (string Key, string Value) SplitLine(string line)
    {
        int i = 0;
        while (i < line.Length && !(line[i] is '=' or ':' or ' ' or '\t' or '\f'))
        {
            i += line[i] == '\\' ? 2 : 1;
        }

        i = Math.Min(i, line.Length);
        string key = line[..i];
        int j = i;
        while (j < line.Length && line[j] is ' ' or '\t' or '\f')
        {
            j++;
        }

        if (j < line.Length && line[j] is '=' or ':')
        {
            j++;
            while (j < line.Length && line[j] is ' ' or '\t' or '\f')
            {
                j++;
            }
        }

        return (key, line[j..]);
    }

    private static string Unescape(string text)
    {
        var result = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c != '\\' || i + 1 >= text.Length)
            {
                result.Append(c);
                continue;
            }

            char e = text[++i];
            switch (e)
            {
                case 't': result.Append('\t'); break;
                case 'n': result.Append('\n'); break;
                case 'r': result.Append('\r'); break;
                case 'f': result.Append('\f'); break;
                case 'u' when i + 4 < text.Length && int.TryParse(text.AsSpan(i + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int code):
                    result.Append((char)code);
                    i += 4;
                    break;
                default: result.Append(e); break;
            }
        }

        return result.ToString();
    }

    private static void Set(OrderedDictionary<string, ConfigValue> fields, string[] path, int index, ConfigScalar value, ConfigOrigin origin)
    {
        string key = path[index];
        if (index == path.Length - 1)
        {
            if (fields.TryGetValue(key, out ConfigValue? existing) && existing is ConfigObject)
            {
                return; // an object beats a string
            }

            fields[key] = value;
            return;
        }

        OrderedDictionary<string, ConfigValue> child = fields.TryGetValue(key, out ConfigValue? current) && current is ConfigObject obj
            ? obj.CopyFields()
            : [];
        Set(child, path, index + 1, value, origin);
        fields[key] = new ConfigObject(origin, child);
    }
}
