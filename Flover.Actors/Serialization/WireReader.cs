using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Flover.Actors.Serialization;

/// <summary>Reads what <see cref="WireWriter"/> wrote (arrays of numbers in the machine's byte order, which is little-endian on every platform .NET runs Flover on); a payload that ends early or carries an unknown format version is a <see cref="WireFormatException"/>.</summary>
internal sealed class WireReader
{
    private readonly byte[] _bytes;
    private int _offset;

    public WireReader(byte[] bytes, string manifest, byte supportedVersion)
    {
        _bytes = bytes;
        Version = bytes.Length > 0 ? bytes[0] : throw new WireFormatException($"an empty payload for '{manifest}'");
        _offset = 1;
        if (Version > supportedVersion)
        {
            throw new WireFormatException($"'{manifest}' in format version {Version}; this node reads versions up to {supportedVersion}");
        }
    }

    public byte Version { get; }

    public int Int() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public long Long() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public ulong ULong() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public float Float() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    public double Double() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    public bool Bool() => Take(1)[0] != 0;

    public byte Byte() => Take(1)[0];

    public string? String()
    {
        int length = Int();
        return length < 0 ? null : Encoding.UTF8.GetString(Take(length));
    }

    public int? NullableInt() => Bool() ? Int() : null;

    public float? NullableFloat() => Bool() ? Float() : null;

    public long? NullableLong() => Bool() ? Long() : null;

    public int[] Ints()
    {
        int count = Count(sizeof(int));
        return MemoryMarshal.Cast<byte, int>(Take(count * sizeof(int))).ToArray();
    }

    public float[] Floats()
    {
        int count = Count(sizeof(float));
        return MemoryMarshal.Cast<byte, float>(Take(count * sizeof(float))).ToArray();
    }

    public byte[] Bytes() => Take(Count(1)).ToArray();

    public IReadOnlyList<string>? Strings()
    {
        int count = Int();
        if (count < 0)
        {
            return null;
        }

        var values = new string[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = String() ?? throw new WireFormatException("a null element in a list of strings");
        }

        return values;
    }

    /// <summary>An element count, checked against the bytes left (a corrupt length cannot allocate gigabytes).</summary>
    public int Count(int elementBytes)
    {
        int count = Int();
        if (count < 0 || (long)count * elementBytes > _bytes.Length - _offset)
        {
            throw new WireFormatException($"a count of {count} with {_bytes.Length - _offset} bytes left");
        }

        return count;
    }

    private ReadOnlySpan<byte> Take(int length)
    {
        if (length < 0 || _offset + length > _bytes.Length)
        {
            throw new WireFormatException($"the payload ends after {_bytes.Length} bytes, {length} more were expected at {_offset}");
        }

        var span = new ReadOnlySpan<byte>(_bytes, _offset, length);
        _offset += length;
        return span;
    }
}

/// <summary>A payload Flover's serializer cannot read: truncated, corrupt, or from a newer format version.</summary>
public sealed class WireFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WireFormatException()
        : base("A Flover message could not be read.")
    {
    }

    /// <summary>Creates the exception naming the problem.</summary>
    public WireFormatException(string message)
        : base($"A Flover message could not be read: {message}.")
    {
    }

    /// <summary>Creates the exception naming the problem and its cause.</summary>
    public WireFormatException(string message, Exception inner)
        : base($"A Flover message could not be read: {message}.", inner)
    {
    }
}
