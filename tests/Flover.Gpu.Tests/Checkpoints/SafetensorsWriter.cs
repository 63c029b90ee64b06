using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Tests.Checkpoints;

/// <summary>
/// Writes safetensors files for tests: F32, F16 and BF16 tensors from float values, raw tensors of
/// any dtype, and every corruption the reader must reject (overridden offsets, header text or
/// length, truncation, trailing bytes).
/// </summary>
internal sealed class SafetensorsWriter
{
    private readonly List<(string Name, string DType, long[] Shape, byte[] Data)> _tensors = [];

    /// <summary>Offsets written for a tensor instead of the computed ones.</summary>
    public Dictionary<string, (long Begin, long End)> OffsetOverrides { get; } = new(StringComparer.Ordinal);

    /// <summary>Shapes written for a tensor instead of the real ones (the data keeps its size).</summary>
    public Dictionary<string, long[]> ShapeOverrides { get; } = new(StringComparer.Ordinal);

    /// <summary>Header text written verbatim instead of the generated JSON.</summary>
    public string? HeaderOverride { get; set; }

    /// <summary>The 8-byte header length written instead of the real one.</summary>
    public ulong? HeaderLengthOverride { get; set; }

    /// <summary>Bytes cut from the end of the finished file.</summary>
    public int TruncateBy { get; set; }

    /// <summary>Bytes appended after the data section.</summary>
    public int TrailingBytes { get; set; }

    /// <summary>A <c>__metadata__</c> entry, as transformers writes (<c>{"format":"pt"}</c>).</summary>
    public bool WriteMetadata { get; set; } = true;

    /// <summary>The names of the tensors added, in order.</summary>
    public IEnumerable<string> Names => _tensors.Select(t => t.Name);

    public SafetensorsWriter Add(string name, TensorDType dtype, long[] shape, ReadOnlySpan<float> values) =>
        AddRaw(name, NameOf(dtype), shape, Encode(dtype, values));

    public SafetensorsWriter AddRaw(string name, string dtype, long[] shape, byte[] data)
    {
        _tensors.Add((name, dtype, shape, data));
        return this;
    }

    public SafetensorsWriter Remove(string name)
    {
        _tensors.RemoveAll(t => t.Name == name);
        return this;
    }

    public SafetensorsWriter Rename(string name, string newName)
    {
        int at = _tensors.FindIndex(t => t.Name == name);
        _tensors[at] = _tensors[at] with { Name = newName };
        return this;
    }

    /// <summary>The header JSON as it would be written (before any <see cref="HeaderOverride"/>).</summary>
    public string HeaderJson()
    {
        var header = new Dictionary<string, object>(StringComparer.Ordinal);
        if (WriteMetadata)
        {
            header["__metadata__"] = new Dictionary<string, string> { ["format"] = "pt" };
        }

        long offset = 0;
        foreach ((string name, string dtype, long[] shape, byte[] data) in _tensors)
        {
            (long begin, long end) = OffsetOverrides.TryGetValue(name, out var forced) ? forced : (offset, offset + data.Length);
            header[name] = new Dictionary<string, object>
            {
                ["dtype"] = dtype,
                ["shape"] = ShapeOverrides.GetValueOrDefault(name) ?? shape,
                ["data_offsets"] = new[] { begin, end },
            };
            offset += data.Length;
        }

        return JsonSerializer.Serialize(header);
    }

    public void Write(string path)
    {
        byte[] header = Encoding.UTF8.GetBytes(HeaderOverride ?? HeaderJson());
        // transformers pads the header with spaces so the data section starts 8-byte aligned.
        int padding = (8 - (header.Length % 8)) % 8;
        using var buffer = new MemoryStream();
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, HeaderLengthOverride ?? (ulong)(header.Length + padding));
        buffer.Write(length);
        buffer.Write(header);
        buffer.Write(Encoding.ASCII.GetBytes(new string(' ', padding)));
        foreach ((_, _, _, byte[] data) in _tensors)
        {
            buffer.Write(data);
        }

        buffer.Write(new byte[TrailingBytes]);
        byte[] bytes = buffer.ToArray();
        File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length - TruncateBy).ToArray());
    }

    public static string NameOf(TensorDType dtype) => dtype switch
    {
        TensorDType.F32 => "F32",
        TensorDType.F16 => "F16",
        _ => "BF16",
    };

    public static byte[] Encode(TensorDType dtype, ReadOnlySpan<float> values)
    {
        switch (dtype)
        {
            case TensorDType.F32:
                return MemoryMarshal.AsBytes(values).ToArray();
            case TensorDType.F16:
                var halves = new Half[values.Length];
                for (int i = 0; i < values.Length; i++)
                {
                    halves[i] = (Half)values[i];
                }

                return MemoryMarshal.AsBytes(halves.AsSpan()).ToArray();
            default:
                var raw = new ushort[values.Length];
                for (int i = 0; i < values.Length; i++)
                {
                    raw[i] = BFloat16Bits.FromSingle(values[i]);
                }

                return MemoryMarshal.AsBytes(raw.AsSpan()).ToArray();
        }
    }
}
