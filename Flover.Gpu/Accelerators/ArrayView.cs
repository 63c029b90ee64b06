namespace Flover.Gpu.Accelerators;

/// <summary>
/// A window of a <see cref="MemoryBuffer{T}"/>: what kernels receive, as ILGPU's <c>ArrayView</c>.
/// A value type holding the buffer, a first element and a length; the default value is invalid.
/// </summary>
/// <typeparam name="T">An unmanaged element type.</typeparam>
public readonly struct ArrayView<T> : IEquatable<ArrayView<T>>
    where T : unmanaged
{
    internal ArrayView(MemoryBuffer<T> buffer, long index, long length)
    {
        Buffer = buffer;
        Index = index;
        Length = length;
    }

    /// <summary>The buffer this view looks into; null for the default (invalid) view.</summary>
    public MemoryBuffer<T>? Buffer { get; }

    /// <summary>The first element's index in <see cref="Buffer"/>.</summary>
    public long Index { get; }

    /// <summary>Number of elements.</summary>
    public long Length { get; }

    /// <summary>Whether the view refers to a buffer (the default view does not).</summary>
    public bool IsValid => Buffer is not null;

    /// <summary>The elements [<paramref name="index"/>, <paramref name="index"/> + <paramref name="length"/>) of this view.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range does not lie inside this view.</exception>
    public ArrayView<T> SubView(long index, long length)
    {
        if (Buffer is null)
        {
            throw new InvalidOperationException("Cannot take a sub-view of an invalid (default) view.");
        }

        if (index < 0 || length < 0 || index > Length - length)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"Sub-view [{index}, {index + length}) lies outside a view of {Length} elements.");
        }

        return new ArrayView<T>(Buffer, Index + index, length);
    }

    /// <inheritdoc />
    public bool Equals(ArrayView<T> other) => ReferenceEquals(Buffer, other.Buffer) && Index == other.Index && Length == other.Length;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is ArrayView<T> other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Buffer, Index, Length);

    /// <summary>Whether two views cover the same elements of the same buffer.</summary>
    public static bool operator ==(ArrayView<T> left, ArrayView<T> right) => left.Equals(right);

    /// <summary>Whether two views differ in buffer, start or length.</summary>
    public static bool operator !=(ArrayView<T> left, ArrayView<T> right) => !left.Equals(right);

    /// <inheritdoc />
    public override string ToString() => IsValid ? $"ArrayView<{typeof(T).Name}>[{Index}..{Index + Length})" : "ArrayView (invalid)";
}
