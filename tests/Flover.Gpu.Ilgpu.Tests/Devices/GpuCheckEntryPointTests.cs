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
        Assert.Contains("PASS preset weights generated on the device == the host generator's, bitwise (small odd shapes)", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("ALL CHECKS PASSED", File.ReadAllText(Path.Combine(folder, "results.txt")), StringComparison.Ordinal);
        Directory.Delete(folder, recursive: true);
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
