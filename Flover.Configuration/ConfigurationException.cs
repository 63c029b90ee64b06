namespace Flover.Configuration;

/// <summary>
/// A configuration error: a syntax error, an unresolvable or cyclic substitution, a missing
/// required include, a value of the wrong type or an unknown setting. The message always names
/// the position (<c>file:line:column</c>) and, where one is involved, the configuration path.
/// Like Flover's other user-facing errors its message is complete on its own; it derives from
/// <see cref="Exception"/> because this assembly is a leaf that depends on nothing of Flover's.
/// </summary>
public sealed class ConfigurationException : Exception
{
    /// <summary>Creates the error for a problem at <paramref name="origin"/>; the message is prefixed with the origin.</summary>
    public ConfigurationException(ConfigOrigin? origin, string message)
        : base(origin is null ? message : $"{origin}: {message}")
    {
        Origin = origin;
    }

    /// <summary>Creates the error for a problem at <paramref name="origin"/> caused by <paramref name="innerException"/>.</summary>
    public ConfigurationException(ConfigOrigin? origin, string message, Exception innerException)
        : base(origin is null ? message : $"{origin}: {message}", innerException)
    {
        Origin = origin;
    }

    /// <summary>Where the problem is, when it can be pinned to a position in a source.</summary>
    public ConfigOrigin? Origin { get; }
}
