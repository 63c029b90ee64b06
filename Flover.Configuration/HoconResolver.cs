namespace Flover.Configuration;

/// <summary>How substitutions that the document itself cannot satisfy are looked up.</summary>
/// <param name="UseEnvironment">Whether an undefined path falls back to the environment variable of the same name.</param>
/// <param name="Environment">Reads an environment variable (replaceable in tests).</param>
internal sealed record ResolveOptions(bool UseEnvironment, Func<string, string?> Environment)
{
    /// <summary>Environment variables of this process as the fallback, as the HOCON specification recommends.</summary>
    public static ResolveOptions Default { get; } = new(true, global::System.Environment.GetEnvironmentVariable);

    /// <summary>The document alone (the conformance suite's rule for its equivalence files).</summary>
    public static ResolveOptions DocumentOnly { get; } = new(false, _ => null);
}

/// <summary>
/// Resolves every substitution of a parsed (and merged) document, following the HOCON
/// specification: lookups see the final merged tree ("look forward"), a self-reference sees the
/// value the field had before its own definition ("look backward"), results are memoised per
/// occurrence, and a substitution that needs its own result is reported as a cycle.
/// </summary>
internal sealed partial class HoconResolver
{
    private readonly ConfigObject _root;
    private readonly ResolveOptions _options;
    private readonly Dictionary<ConfigValue, ConfigValue?> _memo = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<(DelayedMerge, int), ConfigValue?> _remainderMemo = [];
    private readonly HashSet<object> _inProgress = new(ReferenceEqualityComparer.Instance);
    private readonly List<Substitution> _chain = [];

    // WHY a scope of replacements: while one definition of a field is being resolved, a lookup
    // that reaches that field must see the field's *older* definitions (or nothing), not the
    // definition in progress. The scope is cleared when a lookup starts resolving some other
    // field, so only references made from within the definition itself are self-references.
    private List<(ConfigValue Node, Func<ConfigValue?> Replacement)> _scope = [];

    private HoconResolver(ConfigObject root, ResolveOptions options)
    {
        _root = root;
        _options = options;
    }

    /// <summary>Resolves <paramref name="root"/>; fields whose optional substitutions are undefined disappear.</summary>
    public static ConfigObject Resolve(ConfigObject root, ResolveOptions options)
    {
        if (root.IsResolved)
        {
            return root;
        }

        var resolver = new HoconResolver(root, options);
        return (ConfigObject)resolver.ResolveValue(root)!;
    }

    private ConfigValue? ResolveValue(ConfigValue value)
    {
        if (value.IsResolved)
        {
            return value;
        }

        if (_memo.TryGetValue(value, out ConfigValue? known))
        {
            return known;
        }

        if (!_inProgress.Add(value))
        {
            throw CycleError(value.Origin);
        }

        ConfigValue? result;
        try
        {
            result = value switch
            {
                ConfigObject obj => obj.MapFields((_, child) => ResolveField(child)),
                ConfigList list => new ConfigList(list.Origin, list.Select(ResolveValue).OfType<ConfigValue>()),
                Substitution substitution => ResolveSubstitution(substitution),
                Concatenation concatenation => ResolveConcatenation(concatenation),
                DelayedMerge delayed => ResolveDelayedMerge(delayed, 0),
                _ => throw new InvalidOperationException($"Unknown configuration node {value.GetType().Name}."),
            };
        }
        finally
        {
            _inProgress.Remove(value);
        }

        _memo[value] = result;
        return result;
    }

    /// <summary>Resolves the value of a field: a reference to the field from inside its own value means "nothing older".</summary>
    private ConfigValue? ResolveField(ConfigValue value)
    {
        if (value is not (Substitution or Concatenation))
        {
            return ResolveValue(value);
        }

        _scope.Add((value, static () => null));
        try
        {
            return ResolveValue(value);
        }
        finally
        {
            _scope.RemoveAt(_scope.Count - 1);
        }
    }

    private ConfigValue? ResolveDelayedMerge(DelayedMerge delayed, int start)
    {
        if (start >= delayed.Stack.Count)
        {
            return null;
        }

        if (_remainderMemo.TryGetValue((delayed, start), out ConfigValue? known))
        {
            return known;
        }

        if (!_inProgress.Add((delayed, start)))
        {
            throw CycleError(delayed.Origin);
        }

        ConfigValue? result = null;
        try
        {
            for (int i = start; i < delayed.Stack.Count; i++)
            {
                int older = i + 1;
                _scope.Add((delayed, () => ResolveDelayedMerge(delayed, older)));
                ConfigValue? resolved;
                try
                {
                    resolved = ResolveValue(delayed.Stack[i]);
                }
                finally
                {
                    _scope.RemoveAt(_scope.Count - 1);
                }

                if (resolved is null)
                {
                    continue; // an undefined optional substitution leaves the older value in force
                }

                result = result is null ? resolved : ConfigMerge.Merge(resolved, result);
                if (result is not ConfigObject || resolved is not ConfigObject)
                {
                    break; // a non-object hides everything older than itself
                }
            }
        }
        finally
        {
            _inProgress.Remove((delayed, start));
        }

        _remainderMemo[(delayed, start)] = result;
        return result;
    }
}
