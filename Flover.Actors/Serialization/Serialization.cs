using System.Collections.Concurrent;
using System.Text.Json;

namespace Flover.Actors.Serialization;

/// <summary>Turns messages into bytes and back; identified by a number carried on the wire.</summary>
public abstract class Serializer
{
    /// <summary>The number that names this serializer on the wire.</summary>
    public abstract int Identifier { get; }

    /// <summary>The bytes of <paramref name="obj"/>.</summary>
    public abstract byte[] ToBinary(object obj);

    /// <summary>The object of type <paramref name="type"/> encoded in <paramref name="bytes"/>.</summary>
    public abstract object FromBinary(byte[] bytes, Type type);
}

/// <summary>The default serializer: System.Text.Json over the message's public properties (immutable records round-trip).</summary>
public sealed class JsonMessageSerializer : Serializer
{
    private static readonly JsonSerializerOptions s_options = new(JsonSerializerDefaults.General) { IncludeFields = false };

    /// <inheritdoc />
    public override int Identifier => 1;

    /// <inheritdoc />
    public override byte[] ToBinary(object obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), s_options);
    }

    /// <inheritdoc />
    public override object FromBinary(byte[] bytes, Type type) =>
        JsonSerializer.Deserialize(bytes, type, s_options) ?? throw new SerializationException($"The bytes decode to null, not a {type}.");
}

/// <summary>A message that cannot be serialized or deserialized.</summary>
public sealed class SerializationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The serialization hook remoting will use: a serializer per message type (JSON by default),
/// and a type manifest (<c>Namespace.Type, Assembly</c>) carried beside the bytes.
/// </summary>
public sealed class Serialization
{
    private readonly ConcurrentDictionary<Type, Serializer> _bindings = new();
    private readonly ConcurrentDictionary<int, Serializer> _byId = new();
    private readonly Serializer _default = new JsonMessageSerializer();

    internal Serialization()
    {
        _byId[_default.Identifier] = _default;
    }

    /// <summary>Uses <paramref name="serializer"/> for <paramref name="type"/> and its subtypes.</summary>
    public void AddSerializer(Type type, Serializer serializer)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(serializer);
        _bindings[type] = serializer;
        _byId[serializer.Identifier] = serializer;
    }

    /// <summary>The serializer for <paramref name="obj"/>'s type (the most specific binding, else JSON).</summary>
    public Serializer FindSerializerFor(object obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return FindSerializerForType(obj.GetType());
    }

    /// <summary>The serializer for <paramref name="type"/>.</summary>
    public Serializer FindSerializerForType(Type type)
    {
        for (Type? t = type; t is not null; t = t.BaseType)
        {
            if (_bindings.TryGetValue(t, out Serializer? serializer))
            {
                return serializer;
            }
        }

        foreach (Type contract in type.GetInterfaces())
        {
            if (_bindings.TryGetValue(contract, out Serializer? serializer))
            {
                return serializer;
            }
        }

        return _default;
    }

    /// <summary>The manifest naming <paramref name="type"/> on the wire.</summary>
    public static string ManifestFor(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";

    /// <summary>Serializes <paramref name="message"/>: its bytes, the serializer id and the manifest.</summary>
    public (byte[] Bytes, int SerializerId, string Manifest) Serialize(object message)
    {
        Serializer serializer = FindSerializerFor(message);
        try
        {
            return (serializer.ToBinary(message), serializer.Identifier, ManifestFor(message.GetType()));
        }
        catch (Exception exception) when (exception is not SerializationException)
        {
            throw new SerializationException($"Cannot serialize {message.GetType()}: {exception.Message}", exception);
        }
    }

    /// <summary>Deserializes what <see cref="Serialize"/> produced.</summary>
    public object Deserialize(byte[] bytes, int serializerId, string manifest)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (!_byId.TryGetValue(serializerId, out Serializer? serializer))
        {
            throw new SerializationException($"No serializer with id {serializerId} (manifest '{manifest}').");
        }

        Type type = Type.GetType(manifest, throwOnError: false)
            ?? throw new SerializationException($"Unknown message type in manifest '{manifest}'.");
        try
        {
            return serializer.FromBinary(bytes, type);
        }
        catch (Exception exception) when (exception is not SerializationException)
        {
            throw new SerializationException($"Cannot deserialize '{manifest}': {exception.Message}", exception);
        }
    }
}
