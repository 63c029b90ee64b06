using System.Reflection;
using Flover.Gpu.Accelerators.Ilgpu;
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
/// rounding of activations for cuBLAS.
/// </summary>
public sealed class PtxCompileTests
{
    [Fact]
    public void Every_kernel_compiles_to_ptx_for_sm_90()
    {
        // Default() probes CUDA too: register our driver resolver first, as every CUDA path does.
        CudaLibraryResolver.Register();
        using Context context = Context.Create(builder => builder.Default().EnableAlgorithms().Optimize(OptimizationLevel.O2));
        // The capability context and instruction set exactly as a CudaAccelerator on SM_90 with driver 13.0 builds them.
        var capabilities = (CudaCapabilityContext)Activator.CreateInstance(
            typeof(CudaCapabilityContext), BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, null, [CudaArchitecture.SM_90], null)!;
        Assert.True(CudaAccelerator.TryGetInstructionSet(capabilities.TargetArchitecture, CudaDriverVersion.FromValue(13000), out _, out CudaInstructionSet isa));
        using var backend = new PTXBackend(context, capabilities, CudaArchitecture.SM_90, isa, null);

        var compiled = new List<string>();
        foreach (MethodInfo kernel in IlgpuKernelSet.Methods)
        {
            bool implicitlyGrouped = typeof(IIndex).IsAssignableFrom(kernel.GetParameters()[0].ParameterType);
            var entry = implicitlyGrouped ? EntryPointDescription.FromImplicitlyGroupedKernel(kernel) : EntryPointDescription.FromExplicitlyGroupedKernel(kernel);
            var result = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
            Assert.Contains(".entry", result.PTXAssembly, StringComparison.Ordinal);
            compiled.Add(kernel.Name);
        }

        Assert.Equal(22, compiled.Count);
    }
}
