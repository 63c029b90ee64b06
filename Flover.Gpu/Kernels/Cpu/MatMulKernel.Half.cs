using System.Runtime.CompilerServices;
using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Kernels.Cpu;

/// <summary>The matmul over half-precision panels: widened in registers for few rows, into scratch for many.</summary>
internal sealed unsafe partial class MatMulKernel
{
    /// <summary>
    /// From this many rows on, a panel is widened once into scratch and the F32 blocks run over it:
    /// the widening is then shared by four or more row blocks. Below it, each block widens in registers.
    /// </summary>
    public const int WidenedPanelRows = 16;

    private void ExecuteHalf<TFormat>(int first, int end, int worker, float* tile)
        where TFormat : IPanelFormat<ushort>
    {
        CpuMatrix weights = _weights!;
        if (_rows >= WidenedPanelRows)
        {
            float* widened = (float*)Unsafe.AsPointer(ref _scratch[worker][0]);
            for (int panel = first; panel < end; panel++)
            {
                HalfWidening.Widen<TFormat>(weights.HalfPanels + (panel * weights.PanelElements), widened, weights.PanelElements);
                RunPanel<float, F32Format>(_input, widened, panel, tile, wideSingleRows: false);
            }

            return;
        }

        if (_inputRebiased)
        {
            float* rebiased = (float*)Unsafe.AsPointer(ref _rebiasedInput[0]);
            for (int panel = first; panel < end; panel++)
            {
                RunPanel<ushort, RebiasedF16Format>(rebiased, weights.HalfPanels + (panel * weights.PanelElements), panel, tile, wideSingleRows: true);
            }

            return;
        }

        for (int panel = first; panel < end; panel++)
        {
            RunPanel<ushort, TFormat>(_input, weights.HalfPanels + (panel * weights.PanelElements), panel, tile, wideSingleRows: true);
        }
    }

    /// <summary>
    /// Writes the input times 2¹¹² for <see cref="RebiasedF16Format"/>, once per launch on the launching
    /// thread (a few thousand multiplies against millions of weights). Returns false, leaving the launch to
    /// the plain finite-F16 widening, when some value is not finite or |x| ≥ 2¹⁶ so its scaled value would
    /// not be exact; both paths give the same bits, so the choice never shows in a result.
    /// </summary>
    private bool RebiasInput(float* input, long count)
    {
        if (_rebiasedInput.Length < count)
        {
            // Pinned so Execute can hold a pointer; grown to the largest input seen, then reused.
            _rebiasedInput = GC.AllocateUninitializedArray<float>(checked((int)count), pinned: true);
        }

        float* scaled = (float*)Unsafe.AsPointer(ref _rebiasedInput[0]);
        for (long i = 0; i < count; i++)
        {
            float value = input[i];
            if (!(MathF.Abs(value) < RebiasedF16Format.InputLimit))
            {
                return false;
            }

            scaled[i] = value * RebiasedF16Format.InputScale;
        }

        return true;
    }
}
