using System.Runtime.InteropServices;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Models;

namespace Flover.Gpu.Checkpoints;

/// <summary>
/// Model weights held in native memory owned by this object: what presets generate and what
/// tests build by hand. Tensors are added once each, then read through <see cref="IModelWeights"/>.
/// </summary>
public sealed unsafe class NativeModelWeights : IModelWeights
{
    private readonly Dictionary<string, TensorView> _tensors = new(StringComparer.Ordinal);
    private readonly List<(nint Block, long Bytes)> _allocations = [];
    private bool _disposed;

    /// <summary>Creates an empty set of weights for a model shaped by <paramref name="config"/>.</summary>
    public NativeModelWeights(Gpt2Config config, string source)
    {
        Config = config;
        Source = source;
    }

    /// <inheritdoc />
    public Gpt2Config Config { get; }

    /// <inheritdoc />
    public string Source { get; }

    /// <inheritdoc />
    public IReadOnlyCollection<string> TensorNames => _tensors.Keys;

    /// <summary>Allocates an uninitialised tensor and returns its bytes for the caller to fill.</summary>
    public Span<byte> Allocate(string name, TensorDType dtype, params long[] shape)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_tensors.ContainsKey(name))
        {
            throw new ArgumentException($"Tensor '{name}' was already added.", nameof(name));
        }

        long elements = 1;
        foreach (long dim in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(dim, nameof(shape));
            elements *= dim;
        }

        long bytes = elements * dtype.ByteSize();
        // 64-byte aligned (vector loads of any width never split a cache line at the start), and
        // given back to the system when disposed (HostMemory says why that needs care).
        byte* data = (byte*)HostMemory.Allocate(bytes);
        _allocations.Add(((nint)data, bytes));
        _tensors.Add(name, new TensorView(name, dtype, shape, data, bytes));
        return new Span<byte>(data, checked((int)bytes));
    }

    /// <summary>Adds an F32, F16 or BF16 tensor from F32 values (rounded to nearest even when narrowed).</summary>
    public void Add(string name, TensorDType dtype, ReadOnlySpan<float> values, params long[] shape)
    {
        Span<byte> bytes = Allocate(name, dtype, shape);
        if (bytes.Length != values.Length * dtype.ByteSize())
        {
            throw new ArgumentException($"Tensor '{name}' expects {bytes.Length / dtype.ByteSize()} values, got {values.Length}.", nameof(values));
        }

        switch (dtype)
        {
            case TensorDType.F32:
                MemoryMarshal.AsBytes(values).CopyTo(bytes);
                break;
            case TensorDType.F16:
                Span<Half> halves = MemoryMarshal.Cast<byte, Half>(bytes);
                for (int i = 0; i < values.Length; i++)
                {
                    halves[i] = (Half)values[i];
                }

                break;
            case TensorDType.BF16:
                Span<ushort> raw = MemoryMarshal.Cast<byte, ushort>(bytes);
                for (int i = 0; i < values.Length; i++)
                {
                    raw[i] = BFloat16Bits.FromSingle(values[i]);
                }

                break;
        }
    }

    /// <summary>
    /// Makes <paramref name="name"/> return the very tensor <paramref name="existingName"/> returns,
    /// without a copy: how GPT-2's output projection is tied to its token embedding.
    /// </summary>
    public void AddAlias(string name, string existingName)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_tensors.ContainsKey(name))
        {
            throw new ArgumentException($"Tensor '{name}' was already added.", nameof(name));
        }

        _tensors.Add(name, Get(existingName));
    }

    /// <inheritdoc />
    public TensorView Get(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _tensors.TryGetValue(name, out TensorView? view)
            ? view
            : throw new KeyNotFoundException($"{Source} has no tensor '{name}'.");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach ((nint block, long bytes) in _allocations)
        {
            HostMemory.Free((void*)block, bytes);
        }

        _allocations.Clear();
        _tensors.Clear();
    }
}

/// <summary>bfloat16 conversions on raw bits (.NET has no BFloat16 arithmetic type we rely on).</summary>
public static class BFloat16Bits
{
    /// <summary>Rounds <paramref name="value"/> to bfloat16, nearest even; NaN stays a quiet NaN.</summary>
    public static ushort FromSingle(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return (ushort)((bits >> 16) | 0x40);
        }

        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    /// <summary>Widens bfloat16 bits to the exactly equal float.</summary>
    public static float ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);
}
