using System.Text;

namespace Flover.Configuration;

internal sealed partial class HoconResolver
{
    /// <summary>Substitutions leading to substitutions deeper than this are rejected rather than risking a stack overflow.</summary>
    public const int MaxChain = 1000;

    private ConfigValue? ResolveSubstitution(Substitution substitution)
    {
        if (_chain.Count >= MaxChain)
        {
            throw new ConfigurationException(substitution.Origin, $"substitutions refer to substitutions more than {MaxChain} deep (starting at {_chain[0].Written} at {_chain[0].Origin})");
        }

        _chain.Add(substitution);
        try
        {
            ConfigValue? found = null;
            if (substitution.Prefix.Count > 0)
            {
                // From an included file: relative to the include point first, then from the root.
                found = LookupPath([.. substitution.Prefix, .. substitution.Path]);
            }

            found ??= LookupPath(substitution.Path);
            if (found is null && _options.UseEnvironment)
            {
                string? variable = _options.Environment(HoconPath.JoinForEnvironment(substitution.Path));
                if (variable is not null)
                {
                    found = ConfigScalar.String(new ConfigOrigin($"environment variable {HoconPath.JoinForEnvironment(substitution.Path)}", 0, 0), variable);
                }
            }

            if (found is null && !substitution.IsOptional)
            {
                throw new ConfigurationException(
                    substitution.Origin,
                    $"could not resolve substitution {substitution.Written}: no such setting{(_options.UseEnvironment ? " and no environment variable of that name" : string.Empty)} (use ${{?...}} if it is optional)");
            }

            return found;
        }
        finally
        {
            _chain.RemoveAt(_chain.Count - 1);
        }
    }

    /// <summary>Finds the resolved value at <paramref name="path"/>, or null when it is missing or undefined.</summary>
    private ConfigValue? LookupPath(IReadOnlyList<string> path)
    {
        ConfigValue current = _root;
        for (int i = 0; i < path.Count; i++)
        {
            ConfigObject? obj = current as ConfigObject ?? ResolveElsewhere(current) as ConfigObject;
            if (obj is null || !obj.TryGetValue(path[i], out ConfigValue? child))
            {
                return null;
            }

            if (TryReplacement(child, out ConfigValue? replaced))
            {
                if (replaced is null)
                {
                    return null;
                }

                child = replaced;
            }

            current = child;
        }

        return ResolveElsewhere(current);
    }

    private bool TryReplacement(ConfigValue node, out ConfigValue? replacement)
    {
        for (int i = _scope.Count - 1; i >= 0; i--)
        {
            if (ReferenceEquals(_scope[i].Node, node))
            {
                replacement = _scope[i].Replacement();
                return true;
            }
        }

        replacement = null;
        return false;
    }

    /// <summary>Resolves a value reached by a lookup, in a fresh scope: it belongs to another field.</summary>
    private ConfigValue? ResolveElsewhere(ConfigValue value)
    {
        if (value.IsResolved)
        {
            return value;
        }

        List<(ConfigValue, Func<ConfigValue?>)> saved = _scope;
        _scope = [];
        try
        {
            return ResolveField(value);
        }
        finally
        {
            _scope = saved;
        }
    }

    private ConfigValue? ResolveConcatenation(Concatenation concatenation)
    {
        var pieces = new List<ConfigValue>(concatenation.Pieces.Count);
        foreach (ConfigValue piece in concatenation.Pieces)
        {
            ConfigValue? resolved = ResolveValue(piece);
            if (resolved is not null)
            {
                pieces.Add(resolved);
            }
        }

        List<ConfigValue> solid = pieces.Where(p => p is not ConfigScalar { IsWhitespace: true }).ToList();
        if (solid.Count == 0)
        {
            return null; // every piece was an undefined optional substitution
        }

        if (solid.Any(p => p is ConfigObject or ConfigList))
        {
            return ConcatenateContainers(concatenation, pieces, solid);
        }

        if (solid.Count == 1 && pieces.Count == 1)
        {
            return solid[0]; // a substitution alone keeps its type
        }

        var text = new StringBuilder();
        foreach (ConfigValue piece in pieces)
        {
            if (piece is ConfigScalar scalar)
            {
                text.Append(scalar.Text);
            }
        }

        return ConfigScalar.String(concatenation.Origin, text.ToString());
    }

    private static ConfigValue ConcatenateContainers(Concatenation concatenation, List<ConfigValue> pieces, List<ConfigValue> solid)
    {
        ConfigValue first = solid.First(p => p is ConfigObject or ConfigList);
        ConfigValue? odd = pieces.FirstOrDefault(p => p is not ConfigScalar { IsWhitespace: true } && p.GetType() != first.GetType());
        if (odd is not null)
        {
            throw new ConfigurationException(
                odd.Origin,
                $"cannot concatenate {first.Describe()} with {odd.Describe()} in the value at {concatenation.Origin} (objects merge only with objects, lists join only with lists)");
        }

        if (first is ConfigList)
        {
            return new ConfigList(concatenation.Origin, solid.SelectMany(p => (ConfigList)p));
        }

        ConfigValue merged = solid[0];
        for (int i = 1; i < solid.Count; i++)
        {
            merged = ConfigMerge.Merge(merged, solid[i]);
        }

        return merged;
    }

    private ConfigurationException CycleError(ConfigOrigin origin)
    {
        string chain = _chain.Count == 0 ? "a value that contains itself" : string.Join(" -> ", _chain.Select(s => $"{s.Written} ({s.Origin})"));
        return new ConfigurationException(origin, $"cycle in substitutions: {chain}");
    }
}
