using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.GpuCheck.Checks;

namespace Flover.GpuCheck;

/// <summary>The fast GEMM mode's part of the check (<c>flover.engine.batch-invariant = off</c>: cuBLAS on the tensor cores).</summary>
internal static partial class GpuCheckRunner
{
    /// <summary>
    /// cuBLAS against the batch-invariant kernel, and the tiny model in the fast mode against the CPU
    /// engine; one SKIP line where <paramref name="openFast"/> is null (no CUDA device: the mode is refused there).
    /// </summary>
    private static void FastGemmChecks(Report report, Func<Accelerator>? openFast, IModelWeights weights, int[] prompt)
    {
        if (openFast is null)
        {
            report.Line("SKIP fast GEMM (cuBLAS) vs batch-invariant kernel: needs a CUDA device (flover.engine.batch-invariant = off is refused here)");
            return;
        }

        report.Run("fast GEMM (cuBLAS) vs batch-invariant kernel (GPT-2 shapes)", () => FastGemm(openFast));
        report.Run("model BF16 weights, fast GEMM vs CPU engine", () =>
        {
            // Activations rounded to BF16 before every matmul: a looser bound than the kernels' 1e-4,
            // and the greedy tokens reported, not required (a near tie may flip).
            ModelComparison result = ModelChecks.AgainstCpuEngine(openFast, weights, TensorDType.BF16, prompt, 6);
            return (result.WorstRelativeL2 < 3e-2, $"worst row rel L2 {result.WorstRelativeL2:E2} (bound 3e-2); greedy {(result.GreedyEqual ? "equal" : "different (allowed)")}: [{string.Join(", ", result.Greedy)}]");
        });
    }

    /// <summary>bench-decode of gpt2 BF16 in the fast mode (and, for a visit of its own, the batch-invariant run beside it); batch 128 added, where the tensor cores should pay.</summary>
    private static void FastGemmBench(Report report, Func<Accelerator> open, Func<Accelerator> openFast, IModelWeights gpt2, bool includeBaseline)
    {
        void Time(string mode, string setting, Func<Accelerator> opener) =>
            report.Run($"bench-decode gpt2 BF16 weights, {mode} (flover.engine.batch-invariant = {setting})", () =>
            {
                foreach (string line in DecodeBench.Run(opener, gpt2, TensorDType.BF16, [1, 8, 32, 128], 64))
                {
                    report.Line(line);
                }

                return (true, "timed");
            });

        if (includeBaseline)
        {
            Time("batch-invariant kernels", "on", open);
        }

        Time("fast GEMM (cuBLAS)", "off", openFast);
    }

    /// <summary>cuBLAS against the batch-invariant kernel at GPT-2 small's shapes, every epilogue, each weight type; bound in <see cref="KernelChecks.FastGemmBound"/>.</summary>
    private static (bool, string) FastGemm(Func<Accelerator> openFast)
    {
        using Accelerator accelerator = openFast();
        if (accelerator.BatchInvariant)
        {
            return (false, "the accelerator was opened in the fast mode but still multiplies with the batch-invariant kernels");
        }

        using var checks = new KernelChecks(accelerator);
        var errors = new List<(string Name, double Error)>
        {
            ("BF16 1x768x2304 (c_attn, batch 1)", checks.FastGemmError(1, 768, 2304, TensorDType.BF16, false, KernelActivation.None, false)),
            ("BF16 7x768x2304 +bias", checks.FastGemmError(7, 768, 2304, TensorDType.BF16, true, KernelActivation.None, false)),
            ("BF16 64x768x768 accumulate (beta 1)", checks.FastGemmError(64, 768, 768, TensorDType.BF16, false, KernelActivation.None, true)),
            ("BF16 33x768x3072 +bias gelu (c_fc)", checks.FastGemmError(33, 768, 3072, TensorDType.BF16, true, KernelActivation.GeluTanh, false)),
            ("BF16 64x3072x768 +bias accumulate (mlp c_proj)", checks.FastGemmError(64, 3072, 768, TensorDType.BF16, true, KernelActivation.None, true)),
            ("BF16 4x768x50257 (LM head)", checks.FastGemmError(4, 768, 50257, TensorDType.BF16, false, KernelActivation.None, false)),
            ("F16 7x768x3072 +bias gelu", checks.FastGemmError(7, 768, 3072, TensorDType.F16, true, KernelActivation.GeluTanh, false)),
            ("F32 as TF32 7x768x2304 +bias", checks.FastGemmError(7, 768, 2304, TensorDType.F32, true, KernelActivation.None, false)),
        };
        (string name, double worst) = errors.MaxBy(e => e.Error);
        return (worst <= KernelChecks.FastGemmBound, $"{errors.Count} cases, worst |fast - invariant| / sum|x*w| {worst:E2} ({name}); bound 2^-8 = {KernelChecks.FastGemmBound:E2}; {string.Join(", ", errors.Select(e => $"{e.Name} {e.Error:E1}"))}");
    }
}
