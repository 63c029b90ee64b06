namespace Flover.Configuration;

/// <summary>
/// The one merge rule of HOCON, used for duplicate keys, includes and fallbacks: the newer
/// value wins, except that two objects merge field by field. Merging is pairwise, so a
/// non-object between two objects hides everything older than itself.
/// </summary>
internal static class ConfigMerge
{
    /// <summary>Merges <paramref name="newer"/> over <paramref name="older"/>.</summary>
    public static ConfigValue Merge(ConfigValue older, ConfigValue newer)
    {
        if (newer is ConfigObject newerObject)
        {
            return older switch
            {
                ConfigObject olderObject => MergeObjects(olderObject, newerObject),
                // The older value may still turn out to be an object: decide after resolution.
                UnresolvedValue => Delay(newer, older),
                _ => newer,
            };
        }

        // A resolved non-object hides the older value for good ("a hidden substitution is never
        // evaluated"); an unresolved one may refer to the older value (self-reference) or be an object.
        return newer is UnresolvedValue ? Delay(newer, older) : newer;
    }

    /// <summary>Merges the fields of <paramref name="newer"/> over those of <paramref name="older"/>.</summary>
    public static ConfigObject MergeObjects(ConfigObject older, ConfigObject newer)
    {
        if (older.Count == 0)
        {
            return newer;
        }

        OrderedDictionary<string, ConfigValue> fields = older.CopyFields();
        foreach (KeyValuePair<string, ConfigValue> field in newer)
        {
            fields[field.Key] = fields.TryGetValue(field.Key, out ConfigValue? previous) ? Merge(previous, field.Value) : field.Value;
        }

        return new ConfigObject(newer.Origin, fields);
    }

    private static DelayedMerge Delay(ConfigValue newer, ConfigValue older)
    {
        var stack = new List<ConfigValue>();
        AddToStack(stack, newer);
        AddToStack(stack, older);
        return new DelayedMerge(newer.Origin, stack);
    }

    private static void AddToStack(List<ConfigValue> stack, ConfigValue value)
    {
        // Once a resolved non-object is on the stack, nothing older can ever be seen.
        if (stack.Count > 0 && stack[^1] is not ConfigObject and not UnresolvedValue)
        {
            return;
        }

        if (value is DelayedMerge delayed)
        {
            foreach (ConfigValue item in delayed.Stack)
            {
                AddToStack(stack, item);
            }
        }
        else
        {
            stack.Add(value);
        }
    }
}
