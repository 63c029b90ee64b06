using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;

namespace Flover.Gpu.Tests.Accelerators;

/// <summary>
/// LLaMA stores its matrices [N, K] (nn.Linear), GPT-2 [K, N] (Conv1D). Packed for the CPU they are
/// the very same bytes, so LLaMA's matmuls run GPT-2's kernel on the same memory: the ground under
/// bench-kernels' claim that LLaMA's shapes run at GPT-2's GFLOP/s (its timings only confirm it).
/// </summary>
public sealed unsafe class MatrixLayoutPackingTests
{
    [Theory]
    [InlineData(TensorDType.F32)]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public void A_matrix_stored_output_major_packs_to_the_bytes_of_its_transpose_stored_input_major(TensorDType dtype)
    {
        // K and N off every panel and vector width, so the padding of the last panel is compared too.
        const int k = 37, n = 150;
        float[] outputMajor = LlamaKernelRuns.Values(20, n * k, 1);
        var inputMajor = new float[k * n];
        for (int column = 0; column < n; column++)
        {
            for (int i = 0; i < k; i++)
            {
                inputMajor[(i * n) + column] = outputMajor[(column * k) + i];
            }
        }

        using var weights = new NativeModelWeights(Gpt2Presets.ConfigOf(Gpt2Presets.Tiny), "layout test");
        weights.Add("llama", TensorDType.F32, outputMajor, [n, k]);
        weights.Add("gpt2", TensorDType.F32, inputMajor, [k, n]);
        using Accelerator accelerator = LlamaKernelRuns.Cpu(threads: 1);
        using var llama = (CpuMatrix)accelerator.UploadMatrix(weights.Get("llama"), MatrixLayout.OutputMajor, dtype);
        using var gpt2 = (CpuMatrix)accelerator.UploadMatrix(weights.Get("gpt2"), MatrixLayout.InputMajor, dtype);

        Assert.Equal((gpt2.PanelCount, gpt2.PanelElements, gpt2.ByteSize, gpt2.HalfEncoding), (llama.PanelCount, llama.PanelElements, llama.ByteSize, llama.HalfEncoding));
        Assert.True(new ReadOnlySpan<byte>(gpt2.Data, checked((int)gpt2.ByteSize)).SequenceEqual(new ReadOnlySpan<byte>(llama.Data, checked((int)llama.ByteSize))));
    }
}
