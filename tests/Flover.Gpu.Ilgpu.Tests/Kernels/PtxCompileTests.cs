using System.Reflection;
using System.Text.RegularExpressions;
using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Flover.Gpu.Ilgpu.Tests.Kernels;

/// <summary>
/// Every device kernel compiled to PTX for an H200 (SM_90, CUDA 13 driver) with ILGPU's PTX backend,
/// which needs no GPU: a kernel ILGPU cannot compile for CUDA fails CI, not a GPU visit. GPT-2 has 15;
/// LLaMA adds RMSNorm, rotary and SwiGLU (its grouped-query attention shares the attention kernels); greedy choice on the device adds the arg-max, sampling on the device the sampler, the fast GEMM mode the
/// rounding of activations for cuBLAS, preset weights generated on the device the fill.
/// </summary>
public sealed class PtxCompileTests
{
    [Fact]
    public void Every_kernel_compiles_to_ptx_for_sm_90()
    {
        using Context context = CreateContext();
        using PTXBackend backend = Sm90Backend(context);

        var compiled = new List<string>();
        foreach (MethodInfo kernel in IlgpuKernelSet.Methods)
        {
            bool implicitlyGrouped = typeof(IIndex).IsAssignableFrom(kernel.GetParameters()[0].ParameterType);
            var entry = implicitlyGrouped ? EntryPointDescription.FromImplicitlyGroupedKernel(kernel) : EntryPointDescription.FromExplicitlyGroupedKernel(kernel);
            var result = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
            Assert.Contains(".entry", result.PTXAssembly, StringComparison.Ordinal);
            compiled.Add(kernel.Name);
        }

        Assert.Equal(23, compiled.Count);
    }

    [Fact]
    public void The_preset_fill_leaves_ptxas_no_live_float_addition_to_fuse()
    {
        string[] ptx = [.. CompileForSm90(typeof(PresetKernels).GetMethod(nameof(PresetKernels.Fill))!)
            .Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0)];

        // ptxas may contract a plain mul.f32 feeding a plain add.f32 into one fma, which rounds once
        // where the host rounds twice; the .rn forms SeededNormalMath emits on CUDA are never
        // contracted. ILGPU keeps the managed twin of each (for its CPU accelerator) behind a branch
        // on a constant-true predicate: every plain add or sub must sit there, unreachable, so no
        // live addition remains for a multiply to be fused into.
        Assert.Contains(ptx, line => line.StartsWith("mul.rn.f32", StringComparison.Ordinal));
        Assert.Contains(ptx, line => line.StartsWith("add.rn.f32", StringComparison.Ordinal));
        Assert.Contains(ptx, line => line.StartsWith("div.rn.f32", StringComparison.Ordinal));
        Assert.Contains(ptx, line => line.StartsWith("sqrt.rn.f32", StringComparison.Ordinal));
        Assert.DoesNotContain(ptx, line => line.StartsWith("fma.", StringComparison.Ordinal));
        for (int i = 2; i < ptx.Length; i++)
        {
            if (ptx[i].StartsWith("add.f32", StringComparison.Ordinal) || ptx[i].StartsWith("sub.f32", StringComparison.Ordinal))
            {
                Match always = Regex.Match(ptx[i - 2], @"^mov\.pred\s+(%p\d+), 1;$");
                Assert.True(always.Success && ptx[i - 1].StartsWith($"@{always.Groups[1].Value} bra.uni", StringComparison.Ordinal), $"a reachable plain addition: {ptx[i]}");
            }
        }
    }

    private static string CompileForSm90(MethodInfo kernel)
    {
        using Context context = CreateContext();
        using PTXBackend backend = Sm90Backend(context);
        return ((PTXCompiledKernel)backend.Compile(EntryPointDescription.FromImplicitlyGroupedKernel(kernel), KernelSpecialization.Empty)).PTXAssembly;
    }

    private static Context CreateContext()
    {
        // Default() probes CUDA too: register our driver resolver first, as every CUDA path does.
        CudaLibraryResolver.Register();
        return Context.Create(builder => builder.Default().EnableAlgorithms().Optimize(OptimizationLevel.O2));
    }

    /// <summary>The capability context and instruction set exactly as a CudaAccelerator on SM_90 with driver 13.0 builds them.</summary>
    private static PTXBackend Sm90Backend(Context context)
    {
        var capabilities = (CudaCapabilityContext)Activator.CreateInstance(
            typeof(CudaCapabilityContext), BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, null, [CudaArchitecture.SM_90], null)!;
        Assert.True(CudaAccelerator.TryGetInstructionSet(capabilities.TargetArchitecture, CudaDriverVersion.FromValue(13000), out _, out CudaInstructionSet isa));
        return new PTXBackend(context, capabilities, CudaArchitecture.SM_90, isa, null);
    }
}
