using Flover.Gpu.Accelerators.Ilgpu;
using Flover.GpuCheck;

namespace Flover.Gpu.Ilgpu.Tests.Devices;

/// <summary>The GPU check's entry point, run here on ILGPU's CPU accelerator so a change cannot break it unnoticed before a GPU visit.</summary>
public sealed class GpuCheckEntryPointTests
{
    private static readonly string LlamaReference = Path.Combine(AppContext.BaseDirectory, "TestData", "huggingface");

    [Fact]
    public void The_gpu_check_passes_on_ilgpu_cpu_and_writes_its_results()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"flover-gpu-check-{Environment.ProcessId}");
        var output = new StringWriter();

        int exitCode = GpuCheckRunner.Run(["--device", "ilgpu-cpu", "--bench", "--out", folder, "--hf-reference", Models.TransformersReferenceTests.Folder, "--llama-reference", LlamaReference], output);

        Assert.True(exitCode == 0, output.ToString());
        Assert.Contains("PASS LLaMA vs transformers' float64 logits (llama-mqa-tied-linear)", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("PASS sampling on the device == the host sampler's ids (every mode)", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("PASS sampled requests together, chosen on the device == each alone", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("PASS sampling timing (ILGPU CPU: path check only)", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("SKIP fast GEMM (cuBLAS) vs batch-invariant kernel: needs a CUDA device (flover.engine.batch-invariant = off is refused here)", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("batch-invariant = off on the cpu device: flover.engine.batch-invariant = off needs a CUDA device (cuBLAS tensor cores); device cpu has only the batch-invariant kernels.", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("PASS preset weights generated on the device == the host generator's, bitwise (small odd shapes)", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("ALL CHECKS PASSED", File.ReadAllText(Path.Combine(folder, "results.txt")), StringComparison.Ordinal);
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void Only_fast_gemm_runs_just_the_fast_gemm_part_which_without_cuda_is_one_skip_line()
    {
        var output = new StringWriter();

        int exitCode = GpuCheckRunner.Run(["--device", "ilgpu-cpu", "--only", "fast-gemm", "--bench"], output);

        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(0, exitCode);
        Assert.Equal(["SKIP fast GEMM (cuBLAS) vs batch-invariant kernel: needs a CUDA device (flover.engine.batch-invariant = off is refused here)", "ALL CHECKS PASSED"], lines[1..]);
    }

    [Fact]
    public void An_unknown_device_fails_the_check()
    {
        var output = new StringWriter();

        Assert.Equal(1, GpuCheckRunner.Run(["--device", "opencl"], output));
        Assert.Contains("FAIL device", output.ToString(), StringComparison.Ordinal);
    }

    [CudaFact]
    public void The_gpu_check_passes_on_cuda()
    {
        var output = new StringWriter();

        Assert.True(GpuCheckRunner.Run(["--device", "cuda", "--hf-reference", Models.TransformersReferenceTests.Folder, "--llama-reference", LlamaReference], output) == 0, output.ToString());
    }
}

/// <summary>A test that needs a CUDA GPU: skipped, saying why, where there is none (the GPU check runs the same checks on a lent GPU).</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (!IlgpuDevices.CudaAvailable(out string reason))
        {
            Skip = $"No CUDA GPU here ({reason}); scripts/gpu-check.sh runs this on a lent GPU.";
        }
    }
}
