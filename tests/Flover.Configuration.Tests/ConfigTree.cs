using System.Globalization;

namespace Flover.Configuration.Tests;

/// <summary>
/// Structural equality of resolved trees, as the reference suite defines it: key order and
/// origins do not matter, whole numbers compare as integers and others as doubles, null is a value.
/// Returns a description of the first difference, or null when equal.
/// </summary>
internal static class ConfigTree
{
    public static string? Difference(ConfigValue expected, ConfigValue actual, string path = "")
    {
        switch (expected)
        {
            case ConfigObject e when actual is ConfigObject a:
                foreach (string key in e.Keys.Union(a.Keys))
                {
                    string child = path.Length == 0 ? key : $"{path}.{key}";
                    if (!e.TryGetValue(key, out ConfigValue? ev))
                    {
                        return $"{child}: unexpected {a[key]}";
                    }

                    if (!a.TryGetValue(key, out ConfigValue? av))
                    {
                        return $"{child}: missing, expected {ev}";
                    }

                    if (Difference(ev, av, child) is { } difference)
                    {
                        return difference;
                    }
                }

                return null;
            case ConfigList e when actual is ConfigList a:
                if (e.Count != a.Count)
                {
                    return $"{path}: expected {e.Count} elements {e} but found {a.Count} {a}";
                }

                for (int i = 0; i < e.Count; i++)
                {
                    if (Difference(e[i], a[i], $"{path}[{i}]") is { } difference)
                    {
                        return difference;
                    }
                }

                return null;
            case ConfigScalar e when actual is ConfigScalar a && ScalarsEqual(e, a):
                return null;
            default:
                return $"{path}: expected {expected} but found {actual}";
        }
    }

    private static bool ScalarsEqual(ConfigScalar e, ConfigScalar a)
    {
        if (e.ValueType != a.ValueType)
        {
            return false;
        }

        if (e.ValueType != ConfigValueType.Number)
        {
            return e.Text == a.Text;
        }

        long? el = ConfigScalar.ParseLong(e.Text);
        long? al = ConfigScalar.ParseLong(a.Text);
        return el is not null && al is not null
            ? el == al
            : double.Parse(e.Text, CultureInfo.InvariantCulture) == double.Parse(a.Text, CultureInfo.InvariantCulture);
    }
}
