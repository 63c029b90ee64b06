namespace Flover.Configuration;

/// <summary>The four forms of <c>include</c>.</summary>
internal enum IncludeKind
{
    /// <summary><c>include "name"</c>: a URL if it is one, else next to the including file, else the class path.</summary>
    Heuristic,

    /// <summary><c>include file("path")</c>: a file path, relative paths against the working directory (as the reference implementation does).</summary>
    File,

    /// <summary><c>include classpath("name")</c>: a resource in the class-path folders.</summary>
    Classpath,

    /// <summary><c>include url("...")</c>: only <c>file:</c> URLs; Flover never fetches configuration over the network.</summary>
    Url,
}

/// <summary>
/// Finds and parses the target of an include. A name without extension loads every one of
/// <c>name.conf</c>, <c>name.json</c> and <c>name.properties</c> that exists, merged with
/// <c>.conf</c> highest; missing targets are ignored unless the include is <c>required(...)</c>.
/// </summary>
internal sealed class HoconIncluder
{
    private static readonly string[] s_extensions = [".conf", ".json", ".properties"];

    private readonly ParseContext _context;
    private readonly ConfigOrigin _at;

    public HoconIncluder(ParseContext context, ConfigOrigin at)
    {
        _context = context;
        _at = at;
    }

    public ConfigObject? Include(IncludeKind kind, string name, bool required)
    {
        if (_context.Depth + 1 > IncludeSettings.MaxDepth)
        {
            throw new ConfigurationException(_at, $"include nested too deep (more than {IncludeSettings.MaxDepth} levels) while including \"{name}\": a file probably includes itself, directly or through others");
        }

        if (kind == IncludeKind.Heuristic && IsUrl(name))
        {
            kind = IncludeKind.Url;
        }

        List<string> searched = [];
        ConfigObject? result = kind switch
        {
            IncludeKind.File => LoadBasename([Path.GetFullPath(name)], searched),
            IncludeKind.Classpath => LoadBasename(ClasspathCandidates(name), searched),
            IncludeKind.Url => LoadBasename([FileFromUrl(name)], searched),
            _ => LoadBasename(_context.Directory is null ? [] : [Path.GetFullPath(Path.Combine(_context.Directory, name))], searched)
                ?? LoadBasename(ClasspathCandidates(name), searched),
        };

        if (result is null && required)
        {
            throw new ConfigurationException(_at, $"required include \"{name}\" not found (looked for: {string.Join(", ", searched)})");
        }

        return result;
    }

    private static bool IsUrl(string name) =>
        Uri.TryCreate(name, UriKind.Absolute, out Uri? uri) && uri.Scheme.Length > 1 && name.Contains("://", StringComparison.Ordinal);

    private string FileFromUrl(string name)
    {
        if (Uri.TryCreate(name, UriKind.Absolute, out Uri? uri) && uri.IsFile)
        {
            return uri.LocalPath;
        }

        throw new ConfigurationException(_at, $"include url(\"{name}\"): only file: URLs are supported; Flover does not fetch configuration over the network (download it and use include file(\"...\"))");
    }

    private List<string> ClasspathCandidates(string name)
    {
        string relative = name.TrimStart('/');
        return _context.Settings.ClasspathRoots.Select(root => Path.GetFullPath(Path.Combine(root, relative))).ToList();
    }

    /// <summary>Loads every candidate (several class-path roots may hold the same name); earlier candidates win.</summary>
    private ConfigObject? LoadBasename(IReadOnlyList<string> candidates, List<string> searched)
    {
        ConfigObject? merged = null;
        foreach (string candidate in candidates)
        {
            ConfigObject? loaded = LoadOne(candidate, searched);
            if (loaded is not null)
            {
                merged = merged is null ? loaded : ConfigMerge.MergeObjects(loaded, merged);
            }
        }

        return merged;
    }

    private ConfigObject? LoadOne(string path, List<string> searched)
    {
        string extension = Path.GetExtension(path);
        if (s_extensions.Contains(extension, StringComparer.Ordinal))
        {
            searched.Add(path);
            return File.Exists(path) ? HoconLoader.ParseFileUnresolved(path, _context.Settings, _context.Depth + 1) : null;
        }

        // No extension: .properties lowest, then .json, then .conf on top.
        ConfigObject? merged = null;
        for (int i = s_extensions.Length - 1; i >= 0; i--)
        {
            string file = path + s_extensions[i];
            searched.Add(file);
            if (File.Exists(file))
            {
                ConfigObject loaded = HoconLoader.ParseFileUnresolved(file, _context.Settings, _context.Depth + 1);
                merged = merged is null ? loaded : ConfigMerge.MergeObjects(merged, loaded);
            }
        }

        return merged;
    }
}
