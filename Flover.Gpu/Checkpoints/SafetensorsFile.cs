using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;

namespace Flover.Gpu.Checkpoints;

/// <summary>
/// A safetensors file mapped read-only into memory. The header is parsed from the mapping and
/// validated against the file size; tensors are returned as <see cref="TensorView"/>s pointing
/// straight into the mapping, so no weight is ever copied through a managed array. Disposing
/// unmaps the file: every view handed out becomes invalid.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    private readonly MemoryMappedFile _mapping;
    private readonly MemoryMappedViewAccessor _accessor;
    private readonly Dictionary<string, SafetensorsEntry> _byName;
    private byte* _base;

    private SafetensorsFile(string path, long length, MemoryMappedFile mapping, MemoryMappedViewAccessor accessor, byte* mapped)
    {
        Path = path;
        Length = length;
        _mapping = mapping;
        _accessor = accessor;
        _base = mapped;
        try
        {
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(mapped, 8));
            if (headerLength > (ulong)(length - 8))
            {
                throw new FloverException(
                    $"{path}: the header length {headerLength} runs beyond the end of the file ({length} bytes): the file is truncated or not a safetensors file.");
            }

            if ((long)headerLength > SafetensorsHeaderParser.MaxHeaderLength)
            {
                throw new FloverException($"{path}: the header length {headerLength} exceeds the safetensors limit of {SafetensorsHeaderParser.MaxHeaderLength} bytes.");
            }

            DataOffset = 8 + (long)headerLength;
            Entries = SafetensorsHeaderParser.Parse(new ReadOnlySpan<byte>(mapped + 8, (int)headerLength), length - DataOffset, path);
            _byName = Entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The file's path.</summary>
    public string Path { get; }

    /// <summary>The file's size in bytes.</summary>
    public long Length { get; }

    /// <summary>Where the data section starts: 8 plus the header length.</summary>
    public long DataOffset { get; }

    /// <summary>Every tensor the header describes, already validated, ordered by position in the data section.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }

    /// <summary>Maps <paramref name="path"/> and validates its header.</summary>
    /// <exception cref="FloverException">The file is missing, truncated, or its header is invalid or inconsistent with its size.</exception>
    public static SafetensorsFile Open(string path)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new FloverException($"{path}: cannot open the weights file ({exception.Message})", exception);
        }

        long length = stream.Length;
        if (length < 8)
        {
            stream.Dispose();
            throw new FloverException($"{path}: the file is truncated: {length} bytes, fewer than the 8-byte header length that starts every safetensors file.");
        }

        MemoryMappedFile? mapping = null;
        MemoryMappedViewAccessor? accessor = null;
        try
        {
            mapping = MemoryMappedFile.CreateFromFile(stream, mapName: null, capacity: 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            accessor = mapping.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* mapped = null;
            accessor.SafeMemoryMappedViewHandle.AcquirePointer(ref mapped);
            return new SafetensorsFile(path, length, mapping, accessor, mapped + accessor.PointerOffset);
        }
        catch (Exception exception)
        {
            // Disposing twice is harmless (a header error has already disposed the new file). The
            // mapping owns the stream once created; before that the stream is ours to close.
            accessor?.Dispose();
            mapping?.Dispose();
            if (mapping is null)
            {
                stream.Dispose();
            }

            if (exception is IOException or UnauthorizedAccessException)
            {
                throw new FloverException($"{path}: cannot map the weights file into memory ({exception.Message})", exception);
            }

            throw;
        }
    }

    /// <summary>Whether the header describes a tensor named <paramref name="name"/>.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The header entry of tensor <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such tensor.</exception>
    public SafetensorsEntry GetEntry(string name) => _byName[name];

    /// <summary>A view of tensor <paramref name="name"/>'s bytes in the mapping, named <paramref name="viewName"/> (the name by default).</summary>
    /// <exception cref="FloverException">The tensor's dtype is not F32, F16 or BF16.</exception>
    public TensorView GetView(string name, string? viewName = null)
    {
        ObjectDisposedException.ThrowIf(_base is null, this);
        SafetensorsEntry entry = GetEntry(name);
        TensorDType dtype = entry.DType
            ?? throw new FloverException($"{Path}: tensor '{name}' has unsupported dtype '{entry.DTypeName}' (Flover reads F32, F16 and BF16).");
        return new TensorView(viewName ?? name, dtype, entry.Shape, _base + DataOffset + entry.Begin, entry.ByteLength);
    }

    /// <summary>Unmaps the file; views handed out must no longer be used.</summary>
    public void Dispose()
    {
        if (_base is not null)
        {
            _base = null;
            _accessor.SafeMemoryMappedViewHandle.ReleasePointer();
        }

        _accessor.Dispose();
        _mapping.Dispose();
    }
}
