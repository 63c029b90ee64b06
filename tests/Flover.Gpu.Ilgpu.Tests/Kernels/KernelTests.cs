using Flover.Gpu.Accelerators;
using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Checkpoints;
using Flover.GpuCheck.Checks;

namespace Flover.Gpu.Ilgpu.Tests.Kernels;

/// <summary>Every device kernel on ILGPU's CPU accelerator against a float64 reference, on odd shapes.</summary>
public sealed class KernelTests : IDisposable
{
    private const double Bound = 1e-5;
    private readonly Accelerator _accelerator = IlgpuDevices.OpenCpuOracle(warpSize: 3);
    private readonly KernelChecks _checks;

    public KernelTests()
    {
        _checks = new KernelChecks(_accelerator);
    }

    [Theory]
    [InlineData(1, 13, 7, TensorDType.F32, MatrixLayout.InputMajor, true, KernelActivation.None, false)]
    [InlineData(5, 37, 29, TensorDType.F32, MatrixLayout.InputMajor, true, KernelActivation.GeluTanh, false)]
    [InlineData(3, 19, 23, TensorDType.F32, MatrixLayout.OutputMajor, true, KernelActivation.None, true)]
    [InlineData(7, 33, 17, TensorDType.F16, MatrixLayout.InputMajor, true, KernelActivation.GeluExact, false)]
    [InlineData(6, 21, 31, TensorDType.BF16, MatrixLayout.OutputMajor, false, KernelActivation.Relu, false)]
    [InlineData(9, 11, 5, TensorDType.BF16, MatrixLayout.InputMajor, true, KernelActivation.GeluTanh, true)]
    [InlineData(5, 300, 37, TensorDType.F16, MatrixLayout.OutputMajor, true, KernelActivation.GeluTanh, true)]
    public void MatMul_matches_float64(int rows, int k, int n, TensorDType dtype, MatrixLayout layout, bool bias, KernelActivation activation, bool accumulate) =>
        Assert.InRange(_checks.MatMul(rows, k, n, dtype, layout, bias, activation, accumulate), 0, Bound);

    [Fact]
    public void The_fast_gemm_check_runs_on_the_oracle_where_both_passes_take_the_kernel()
    {
        // The GPU check's harness (uploads, the kernel switch, the error scale) without cuBLAS: both
        // passes are the batch-invariant kernel, so they agree exactly.
        Assert.Equal(0, _checks.FastGemmError(5, 37, 29, TensorDType.BF16, true, KernelActivation.GeluTanh, true));
        Assert.Equal(0, _checks.FastGemmError(3, 300, 7, TensorDType.F32, false, KernelActivation.None, false));
    }

    [Theory]
    [InlineData(1, 5)]
    [InlineData(5, 37)]
    public void LayerNorm_matches_float64(int rows, int width) => Assert.InRange(_checks.LayerNorm(rows, width), 0, Bound);

    [Theory]
    [InlineData(KernelActivation.GeluTanh)]
    [InlineData(KernelActivation.GeluExact)]
    [InlineData(KernelActivation.Relu)]
    public void Activate_matches_float64(KernelActivation activation) => Assert.InRange(_checks.Activate(101, activation), 0, Bound);

    [Theory]
    [InlineData(TensorDType.F32)]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public void Embeddings_flat_tied_sliced_and_positions_match_float64(TensorDType dtype) =>
        Assert.InRange(_checks.Embeddings(5, 21, 43, 11, dtype), 0, Bound);

    [Theory]
    [InlineData(5, 3, 9, 7, 2)]
    [InlineData(2, 1, 5, 3, 1)]
    public void KvStore_and_attention_over_scattered_slots_match_float64(int slots, int heads, int capacity, int headSize, int layers) =>
        Assert.InRange(_checks.Attention(slots, heads, capacity, headSize, layers), 0, Bound);

    [Theory]
    [InlineData(TensorDType.F16, 4, 2, 7, 9, 1)]
    [InlineData(TensorDType.BF16, 3, 3, 6, 8, 2)]
    [InlineData(TensorDType.F16, 2, 1, 5, 3, 1)]
    public void Half_kv_store_and_attention_match_float64_over_keys_and_values_rounded_the_same_way(TensorDType kvType, int slots, int heads, int capacity, int headSize, int layers) =>
        Assert.InRange(_checks.Attention(slots, heads, capacity, headSize, layers, kvType), 0, Bound);

    [Theory]
    [InlineData(4, 3, 3, 9, 7, TensorDType.F32)]
    [InlineData(3, 4, 2, 11, 8, TensorDType.F16)]
    [InlineData(2, 6, 2, 5, 5, TensorDType.BF16)]
    [InlineData(1, 2, 1, 300, 4, TensorDType.F32)]
    public void Fused_attention_is_bitwise_the_three_separate_kernels(int slots, int queryHeads, int kvHeads, int capacity, int headSize, TensorDType kvType) =>
        Assert.Equal(0, _checks.FusedAttentionMismatches(slots, queryHeads, kvHeads, capacity, headSize, kvType));

    [Theory]
    [InlineData(12, 50, 37)]
    [InlineData(7, 1000, 997)]
    [InlineData(6, 1, 1)]
    public void Greedy_choice_on_the_device_is_the_host_samplers_on_ties_nans_bans_and_masked_ids(int rows, int rowWidth, int candidates) =>
        Assert.Equal(0, _checks.GreedyChoices(rows, rowWidth, candidates));

    [Fact]
    public void Epilogue_gather_and_overlapping_copies_match_float64() => Assert.InRange(_checks.RowsAndCopies(5, 13), 0, Bound);

    public void Dispose()
    {
        _checks.Dispose();
        _accelerator.Dispose();
    }
}
