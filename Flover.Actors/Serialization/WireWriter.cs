using System.Runtime.InteropServices;
using System.Text;

namespace Flover.Actors.Serialization;

/// <summary>
/// Little-endian primitives for Flover's wire format: fixed-width numbers, length-prefixed UTF-8
/// strings (a null string is length −1), length-prefixed arrays; float arrays are copied as raw
/// bytes. Nothing is self-describing: the message's manifest and format version say what follows.
/// </summary>
internal sealed class WireWriter : IDisposable
{
    private readonly MemoryStream _buffer = new();
    private readonly BinaryWriter _writer;

    public WireWriter(byte version)
    {
        _writer = new BinaryWriter(_buffer, Encoding.UTF8, leaveOpen: true);
        _writer.Write(version);
    }

    public void Int(int value) => _writer.Write(value);

    public void Long(long value) => _writer.Write(value);

    public void ULong(ulong value) => _writer.Write(value);

    public void Float(float value) => _writer.Write(value);

    public void Double(double value) => _writer.Write(value);

    public void Bool(bool value) => _writer.Write(value);

    public void Byte(byte value) => _writer.Write(value);

    public void String(string? value)
    {
        if (value is null)
        {
            _writer.Write(-1);
            return;
        }

        byte[] bytes = Encoding.UTF8.GetBytes(value);
        _writer.Write(bytes.Length);
        _writer.Write(bytes);
    }

    public void NullableInt(int? value)
    {
        _writer.Write(value.HasValue);
        if (value is int number)
        {
            _writer.Write(number);
        }
    }

    public void NullableFloat(float? value)
    {
        _writer.Write(value.HasValue);
        if (value is float number)
        {
            _writer.Write(number);
        }
    }

    public void NullableLong(long? value)
    {
        _writer.Write(value.HasValue);
        if (value is long number)
        {
            _writer.Write(number);
        }
    }

    public void Ints(ReadOnlySpan<int> values)
    {
        _writer.Write(values.Length);
        _writer.Write(MemoryMarshal.AsBytes(values));
    }

    public void Floats(ReadOnlySpan<float> values)
    {
        _writer.Write(values.Length);
        _writer.Write(MemoryMarshal.AsBytes(values));
    }

    public void Bytes(ReadOnlySpan<byte> values)
    {
        _writer.Write(values.Length);
        _writer.Write(values);
    }

    public void Strings(IReadOnlyList<string>? values)
    {
        _writer.Write(values?.Count ?? -1);
        foreach (string value in values ?? [])
        {
            String(value);
        }
    }

    public byte[] ToArray()
    {
        _writer.Flush();
        return _buffer.ToArray();
    }

    public void Dispose()
    {
        _writer.Dispose();
        _buffer.Dispose();
    }
}
