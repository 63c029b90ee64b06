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
                RunPanel<float, F32Format>(widened, panel, tile, wideSingleRows: false);
            }

            return;
        }

        for (int panel = first; panel < end; panel++)
        {
            RunPanel<ushort, TFormat>(weights.HalfPanels + (panel * weights.PanelElements), panel, tile, wideSingleRows: true);
        }
    }
}
