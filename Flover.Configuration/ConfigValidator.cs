namespace Flover.Configuration;

/// <summary>
/// Start-up checks of a resolved configuration against the resolved reference: every key under
/// <c>flover</c> must exist in reference.conf, and every setting the reference defines must keep
/// the kind of its default (a number stays a number, a duration a duration, a list a list).
/// </summary>
internal static class ConfigValidator
{
    /// <summary>The root whose keys must all be known; other roots (akka, a user's own) may hold anything.</summary>
    public const string ClosedRoot = "flover";

    // Settings whose number default may also be a word: Akka.NET's on/off switch, our per-request.
    private static readonly Dictionary<string, Func<ConfigScalar, bool>> s_alternatives = new(StringComparer.Ordinal)
    {
        ["akka.log-dead-letters"] = s => Config.ToBoolean(s) is not null,
        ["flover.scheduler.instances.count"] = s => s.Text.Trim() == SchedulerSettings.PerRequest,
    };

    public static void Validate(ConfigObject config, ConfigObject reference)
    {
        if (config.TryGetValue(ClosedRoot, out ConfigValue? flover) && reference.TryGetValue(ClosedRoot, out ConfigValue? known)
            && flover is ConfigObject floverObject && known is ConfigObject knownObject)
        {
            CheckKnownKeys(floverObject, knownObject, [ClosedRoot]);
        }

        CheckKinds(config, reference, []);
    }

    private static void CheckKnownKeys(ConfigObject actual, ConfigObject known, List<string> path)
    {
        if (known.Count == 0)
        {
            return; // an empty object in the reference is an open map
        }

        foreach (KeyValuePair<string, ConfigValue> field in actual)
        {
            path.Add(field.Key);
            if (!known.TryGetValue(field.Key, out ConfigValue? knownValue))
            {
                string rendered = HoconPath.Render(path);
                string? suggestion = Suggest(field.Key, known.Keys);
                string hint = suggestion is null
                    ? $" (known keys here: {string.Join(", ", known.Keys)})"
                    : $" (did you mean {HoconPath.Render([.. path.SkipLast(1), suggestion])}?)";
                throw new ConfigurationException(field.Value.Origin, $"unknown setting '{rendered}'{hint}");
            }

            if (field.Value is ConfigObject actualChild && knownValue is ConfigObject knownChild)
            {
                CheckKnownKeys(actualChild, knownChild, path);
            }

            path.RemoveAt(path.Count - 1);
        }
    }

    private static void CheckKinds(ConfigObject actual, ConfigObject reference, List<string> path)
    {
        foreach (KeyValuePair<string, ConfigValue> field in reference)
        {
            if (!actual.TryGetValue(field.Key, out ConfigValue? value))
            {
                continue;
            }

            path.Add(field.Key);
            string rendered = HoconPath.Render(path);
            switch (field.Value)
            {
                case ConfigObject referenceChild when value is ConfigObject actualChild:
                    CheckKinds(actualChild, referenceChild, path);
                    break;
                case ConfigObject when value is ConfigScalar { ValueType: ConfigValueType.Null }:
                    break; // null clears a section, as HOCON allows
                case ConfigScalar { ValueType: ConfigValueType.Null }:
                    break; // no default kind to keep
                default:
                    string? expected = s_alternatives.TryGetValue(rendered, out Func<ConfigScalar, bool>? alternative) && value is ConfigScalar word && alternative(word)
                        ? null
                        : ExpectedKind(field.Value, value);
                    if (expected is not null)
                    {
                        throw new ConfigurationException(
                            value.Origin,
                            $"setting '{rendered}' must be {expected} like its default {field.Value} ({field.Value.Origin}) but is {value.Describe()}");
                    }

                    break;
            }

            path.RemoveAt(path.Count - 1);
        }
    }

    /// <summary>Null when <paramref name="value"/> has the kind of <paramref name="reference"/>, else a description of that kind.</summary>
    private static string? ExpectedKind(ConfigValue reference, ConfigValue value)
    {
        if (reference is ConfigObject)
        {
            return value is ConfigObject ? null : "an object";
        }

        if (reference is ConfigList)
        {
            return value is ConfigList ? null : "a list";
        }

        var defaultScalar = (ConfigScalar)reference;
        if (value is not ConfigScalar scalar)
        {
            return "a single value";
        }

        switch (defaultScalar.ValueType)
        {
            case ConfigValueType.Boolean:
                return Config.ToBoolean(scalar) is null ? "a boolean (on/off, true/false, yes/no)" : null;
            case ConfigValueType.Number when ConfigScalar.ParseLong(defaultScalar.Text) is not null:
                return Config.ToLong(scalar) is null ? "an integer" : null;
            case ConfigValueType.Number:
                return Config.ToDouble(scalar) is null ? "a number" : null;
        }

        if (Config.ToBoolean(defaultScalar) is not null)
        {
            return Config.ToBoolean(scalar) is null ? "a boolean (on/off, true/false, yes/no)" : null;
        }

        if (IsDuration(defaultScalar))
        {
            return HoconUnits.ParseDuration(scalar, allowInfinite: true, out _) is null ? "a duration (e.g. 100ms, 10s, 5m, infinite)" : null;
        }

        if (HasUnit(defaultScalar) && HoconUnits.ParseBytes(defaultScalar, out _) is not null)
        {
            return HoconUnits.ParseBytes(scalar, out _) is null ? "a size (e.g. 1MiB, 512k, 1048576)" : null;
        }

        return null; // a plain string default accepts any single value; typed settings check the allowed words
    }

    private static bool HasUnit(ConfigScalar scalar) => scalar.Text.Length > 0 && char.IsAsciiLetter(scalar.Text.Trim()[^1]);

    private static bool IsDuration(ConfigScalar scalar) => HasUnit(scalar) && HoconUnits.ParseDuration(scalar, allowInfinite: true, out _) is not null;

    private static string? Suggest(string key, IEnumerable<string> candidates)
    {
        (string? best, int distance) = (null, int.MaxValue);
        foreach (string candidate in candidates)
        {
            int d = EditDistance(key, candidate);
            if (d < distance)
            {
                (best, distance) = (candidate, d);
            }
        }

        return distance <= Math.Max(2, key.Length / 3) ? best : null;
    }

    private static int EditDistance(string a, string b)
    {
        int[] previous = Enumerable.Range(0, b.Length + 1).ToArray();
        int[] current = new int[b.Length + 1];
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j] + 1, current[j - 1] + 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
