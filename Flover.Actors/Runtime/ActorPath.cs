using System.Text;

namespace Flover.Actors.Runtime;

/// <summary>
/// Where an actor system lives: <c>akka://system</c> for a local system, and (once remoting
/// exists) <c>akka.tcp://system@host:port</c>. Value equality.
/// </summary>
public sealed record Address(string Protocol, string System, string? Host = null, int? Port = null)
{
    /// <summary>True when the address carries no host: the local system.</summary>
    public bool HasLocalScope => Host is null;

    /// <inheritdoc />
    public override string ToString()
    {
        var builder = new StringBuilder().Append(Protocol).Append("://").Append(System);
        if (Host is not null)
        {
            builder.Append('@').Append(Host);
            if (Port is not null)
            {
                builder.Append(':').Append(Port.Value);
            }
        }

        return builder.ToString();
    }
}

/// <summary>
/// The unique name of an actor within its system: an <see cref="Address"/> and the names of the
/// actors from the root down, e.g. <c>akka://sys/user/parent/child</c>. Equality ignores the
/// incarnation <see cref="Uid"/>, as in Akka.NET.
/// </summary>
public sealed class ActorPath : IEquatable<ActorPath>, IComparable<ActorPath>
{
    private readonly string[] _elements;

    private ActorPath(Address address, string[] elements, long uid)
    {
        Address = address;
        _elements = elements;
        Uid = uid;
    }

    /// <summary>The root path <c>protocol://system/</c> of <paramref name="address"/>.</summary>
    public static ActorPath Root(Address address) => new(address, [], 0);

    /// <summary>The address of the system the actor lives in.</summary>
    public Address Address { get; }

    /// <summary>The names from the root down (empty for the root).</summary>
    public IReadOnlyList<string> Elements => _elements;

    /// <summary>The last element: the actor's own name ("" for the root).</summary>
    public string Name => _elements.Length == 0 ? string.Empty : _elements[^1];

    /// <summary>The parent path (the root is its own parent).</summary>
    public ActorPath Parent => _elements.Length == 0 ? this : new ActorPath(Address, _elements[..^1], 0);

    /// <summary>The path's root.</summary>
    public ActorPath RootPath => Root(Address);

    /// <summary>The incarnation of the actor at this path (0 when unknown).</summary>
    public long Uid { get; }

    /// <summary>A child path: <c>parent / "name"</c>.</summary>
    public static ActorPath operator /(ActorPath parent, string name)
    {
        ArgumentNullException.ThrowIfNull(parent);
        ActorPathValidation.ValidateElement(name);
        return new ActorPath(parent.Address, [.. parent._elements, name], 0);
    }

    /// <summary>Returns this path tagged with incarnation <paramref name="uid"/>.</summary>
    public ActorPath WithUid(long uid) => new(Address, _elements, uid);

    /// <summary>The path without the address: <c>/user/a/b</c>.</summary>
    public string ToStringWithoutAddress() => _elements.Length == 0 ? "/" : "/" + string.Join('/', _elements);

    /// <summary>The full path with the address: <c>akka://sys/user/a/b</c>.</summary>
    public string ToSerializationFormat() => ToString() + (Uid != 0 ? "#" + Uid : string.Empty);

    /// <summary>Parses <c>akka://system/user/a</c> (optionally <c>akka.tcp://sys@host:port/...</c>).</summary>
    /// <exception cref="FormatException">Not an actor path.</exception>
    public static ActorPath Parse(string path)
    {
        if (!TryParse(path, out ActorPath? parsed))
        {
            throw new FormatException($"'{path}' is not an actor path (expected protocol://system[@host:port]/name/...).");
        }

        return parsed;
    }

    /// <summary>Parses an actor path; false when <paramref name="path"/> is not one.</summary>
    public static bool TryParse(string path, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ActorPath? parsed)
    {
        parsed = null;
        int scheme = path.IndexOf("://", StringComparison.Ordinal);
        if (scheme <= 0)
        {
            return false;
        }

        string protocol = path[..scheme];
        string rest = path[(scheme + 3)..];
        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        string authority = slash < 0 ? rest : rest[..slash];
        string elements = slash < 0 ? string.Empty : rest[(slash + 1)..];
        long uid = 0;
        int hash = elements.IndexOf('#', StringComparison.Ordinal);
        if (hash >= 0)
        {
            if (!long.TryParse(elements[(hash + 1)..], out uid))
            {
                return false;
            }

            elements = elements[..hash];
        }

        Address address;
        int at = authority.IndexOf('@', StringComparison.Ordinal);
        if (at < 0)
        {
            address = new Address(protocol, authority);
        }
        else
        {
            string hostPort = authority[(at + 1)..];
            int colon = hostPort.LastIndexOf(':');
            if (colon < 0 || !int.TryParse(hostPort[(colon + 1)..], out int port))
            {
                return false;
            }

            address = new Address(protocol, authority[..at], hostPort[..colon], port);
        }

        if (address.System.Length == 0)
        {
            return false;
        }

        string[] names = elements.Split('/', StringSplitOptions.RemoveEmptyEntries);
        parsed = new ActorPath(address, names, uid);
        return true;
    }

    /// <inheritdoc />
    public bool Equals(ActorPath? other) =>
        other is not null && Address == other.Address && _elements.AsSpan().SequenceEqual(other._elements);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as ActorPath);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Address);
        foreach (string element in _elements)
        {
            hash.Add(element, StringComparer.Ordinal);
        }

        return hash.ToHashCode();
    }

    /// <inheritdoc />
    public int CompareTo(ActorPath? other) =>
        other is null ? 1 : string.CompareOrdinal(ToString(), other.ToString());

    /// <summary>Value equality.</summary>
    public static bool operator ==(ActorPath? left, ActorPath? right) => Equals(left, right);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(ActorPath? left, ActorPath? right) => !Equals(left, right);

    /// <inheritdoc />
    public override string ToString() => Address + ToStringWithoutAddress();
}

/// <summary>Rules for actor names.</summary>
internal static class ActorPathValidation
{
    /// <summary>Throws <see cref="InvalidActorNameException"/> unless <paramref name="name"/> is a valid path element.</summary>
    public static void ValidateElement(string name)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new InvalidActorNameException("Actor name must not be null or empty.");
        }

        foreach (char c in name)
        {
            if (c == '/' || c == '#' || c == '?' || char.IsWhiteSpace(c) || char.IsControl(c))
            {
                throw new InvalidActorNameException($"Illegal actor name '{name}': it may not contain '/', '#', '?', whitespace or control characters.");
            }
        }
    }

    /// <summary>Validates a user-chosen name: as <see cref="ValidateElement"/>, and not starting with '$' (reserved).</summary>
    public static void ValidateUserName(string name)
    {
        ValidateElement(name);
        if (name[0] == '$')
        {
            throw new InvalidActorNameException($"Illegal actor name '{name}': names starting with '$' are reserved for system-generated names.");
        }
    }
}
