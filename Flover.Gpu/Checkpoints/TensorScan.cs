using System.Runtime.Intrinsics;

namespace Flover.Gpu.Checkpoints;

/// <summary>
/// Whole-tensor checks that read every byte, too costly for every load but what <c>flover info</c>
/// runs to prove a checkpoint holds no NaN or infinity (a corrupt or diverged model).
/// </summary>
public static unsafe class TensorScan
{
    /// <summary>Counts the NaN and infinite elements of <paramref name="tensor"/>: those whose exponent bits are all ones.</summary>
    public static long CountNonFinite(TensorView tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return tensor.DType switch
        {
            TensorDType.F32 => CountAllOnes<uint>((uint*)tensor.Pointer, tensor.ElementCount, 0x7F800000u),
            TensorDType.F16 => CountAllOnes<ushort>((ushort*)tensor.Pointer, tensor.ElementCount, (ushort)0x7C00),
            TensorDType.BF16 => CountAllOnes<ushort>((ushort*)tensor.Pointer, tensor.ElementCount, (ushort)0x7F80),
            _ => throw new ArgumentOutOfRangeException(nameof(tensor), tensor.DType, "Unknown tensor dtype."),
        };
    }

    /// <summary>Scans every distinct tensor of <paramref name="weights"/> in parallel and fails if any holds a NaN or an infinity.</summary>
    /// <exception cref="FloverException">A tensor holds non-finite values; the message names the source, the tensor and the count.</exception>
    public static void RequireFinite(IModelWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        // Names sorted so the tensor a failure names does not depend on thread timing.
        string[] names = [.. weights.TensorNames.Order(StringComparer.Ordinal)];
        long[] counts = new long[names.Length];
        Parallel.For(0, names.Length, i => counts[i] = CountNonFinite(weights.Get(names[i])));
        int bad = counts.Count(c => c > 0);
        if (bad > 0)
        {
            int first = Array.FindIndex(counts, c => c > 0);
            string more = bad > 1 ? $" (and {bad - 1} more tensors do too)" : string.Empty;
            throw new FloverException(
                $"{weights.Source}: tensor '{names[first]}' holds {counts[first]} NaN or infinite values{more}: the weights are corrupt or the model diverged.");
        }
    }

    private static long CountAllOnes<T>(T* data, long count, T exponentMask)
        where T : unmanaged, System.Numerics.IBinaryInteger<T>
    {
        long found = 0;
        long i = 0;
        Vector256<T> mask = Vector256.Create(exponentMask);
        for (; i + Vector256<T>.Count <= count; i += Vector256<T>.Count)
        {
            Vector256<T> exponent = Vector256.Load(data + i) & mask;
            // The common case, no special value in the vector, costs one compare.
            if (Vector256.EqualsAny(exponent, mask))
            {
                found += System.Numerics.BitOperations.PopCount(Vector256.Equals(exponent, mask).ExtractMostSignificantBits());
            }
        }

        for (; i < count; i++)
        {
            if ((data[i] & exponentMask) == exponentMask)
            {
                found++;
            }
        }

        return found;
    }
}
