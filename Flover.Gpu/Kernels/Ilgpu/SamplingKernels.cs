using System.Runtime.CompilerServices;
using ILGPU;

namespace Flover.Gpu.Kernels.Ilgpu;

/// <summary>The arguments of <see cref="SamplingKernels.ArgMax"/>.</summary>
internal struct ArgMaxArgs
{
    public ArrayView<float> Logits;
    public ArrayView<int> Output;

    /// <summary>Floats from one row's start to the next's.</summary>
    public int RowWidth;

    /// <summary>The first this many of a row may be chosen (a vocabulary padded past the tokenizer's).</summary>
    public int Candidates;
}

/// <summary>
/// Greedy choice on the device, so a greedy row sends one id to the host instead of its logits. The
/// choice is the host sampler's: the first index of the greatest value. A row holding a NaN gives
/// −2 − (its first NaN's index), which the host reports as the sampler does (the model produced a
/// NaN logit at that token); a row whose greatest value is −∞ gives −1 (every token banned).
/// </summary>
internal static partial class SamplingKernels
{
    /// <summary>One group per row (<c>Grid.IdxX</c>), groups of a power-of-two size up to <see cref="NormKernels.MaxGroupSize"/>.</summary>
    public static void ArgMax(ArgMaxArgs a)
    {
        ArrayView<float> values = SharedMemory.Allocate<float>(NormKernels.MaxGroupSize);
        ArrayView<int> indices = SharedMemory.Allocate<int>(NormKernels.MaxGroupSize);
        ArrayView<int> nans = SharedMemory.Allocate<int>(NormKernels.MaxGroupSize);
        int t = Group.IdxX;
        int size = Group.DimX;
        long start = (long)Grid.IdxX * a.RowWidth;

        // Each thread scans its own strided indices in increasing order, so on a tie it keeps the
        // first, and the first NaN it meets is its lowest.
        float best = float.NegativeInfinity;
        int bestIndex = -1;
        int firstNaN = int.MaxValue;
        for (int i = t; i < a.Candidates; i += size)
        {
            float value = a.Logits[start + i];
            if (float.IsNaN(value))
            {
                firstNaN = Math.Min(firstNaN, i);
            }
            else if (bestIndex < 0 || value > best)
            {
                best = value;
                bestIndex = i;
            }
        }

        values[t] = best;
        indices[t] = bestIndex;
        nans[t] = firstNaN;
        Group.Barrier();
        for (int half = size / 2; half > 0; half /= 2)
        {
            if (t < half)
            {
                if (Better(values[t + half], indices[t + half], values[t], indices[t]))
                {
                    values[t] = values[t + half];
                    indices[t] = indices[t + half];
                }

                nans[t] = Math.Min(nans[t], nans[t + half]);
            }

            Group.Barrier();
        }

        if (t == 0)
        {
            a.Output[Grid.IdxX] = nans[0] != int.MaxValue ? -2 - nans[0]
                : indices[0] < 0 || values[0] == float.NegativeInfinity ? -1
                : indices[0];
        }
    }

    /// <summary>Whether candidate (value, index) beats the current one: a greater value, or an equal one at a lower index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Better(float value, int index, float currentValue, int currentIndex) =>
        index >= 0 && (currentIndex < 0 || value > currentValue || (value == currentValue && index < currentIndex));
}
