using Flover.Gpu.Checkpoints;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints.Llama;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Llama;
using Flover.Gpu.Tests.Models.Llama;
using Xunit.Abstractions;

namespace Flover.Gpu.Ilgpu.Tests.Models;

/// <summary>
/// LLaMA on the ILGPU accelerator (ILGPU's CPU accelerator) against transformers' own float64 logits
/// for the three reference checkpoints, and its batch guarantees, bitwise, as on the CPU accelerator.
/// </summary>
public sealed class LlamaOnIlgpuTests(ITestOutputHelper output)
{
    public static TheoryData<string> Cases => [.. LlamaReferenceCase.Names];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Logits_and_greedy_tokens_match_transformers(string name)
    {
        LlamaReferenceCase reference = LlamaReferenceCase.Read(name);
        using LlamaWeights weights = LlamaCheckpoint.Load(reference.Folder);

        (float[][][] logits, int[][] greedy) = LlamaReferenceCase.Run(weights, reference.Cases, Oracle.Open);

        double worst = reference.Cases.Select((c, i) => LlamaReferenceCase.WorstRelativeL2(logits[i], c.Logits)).Max();
        output.WriteLine($"{name} on ILGPU: worst row relative L2 {worst:E2} against transformers float64");
        Assert.InRange(worst, 0, 1e-5);
        for (int i = 0; i < reference.Cases.Count; i++)
        {
            Assert.Equal(reference.Cases[i].Greedy, greedy[i]);
        }
    }

    [Theory]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public void With_a_16_bit_kv_cache_the_device_gives_the_cpu_accelerator_s_greedy_tokens_and_logits_within_one_rounding(TensorDType kvDType)
    {
        LlamaReferenceCase reference = LlamaReferenceCase.Read("llama-gqa-llama3rope");
        using LlamaWeights weights = LlamaCheckpoint.Load(reference.Folder);

        (float[][][] device, int[][] deviceGreedy) = LlamaReferenceCase.Run(weights, reference.Cases, Oracle.Open, kvDType);
        (float[][][] cpu, int[][] cpuGreedy) = LlamaReferenceCase.Run(weights, reference.Cases, kvDType: kvDType);

        // Both round every key and value to nearest even; they differ only where the two engines'
        // F32 sums differ (1e-6 against transformers each), which can move a value across one rounding.
        double unit = kvDType == TensorDType.F16 ? Math.Pow(2, -11) : Math.Pow(2, -8);
        for (int i = 0; i < reference.Cases.Count; i++)
        {
            double difference = LlamaReferenceCase.WorstRelativeL2(device[i], [.. cpu[i].Select(row => row.Select(v => (double)v).ToArray())]);
            output.WriteLine($"case {i} {kvDType} KV: ILGPU vs CPU worst row relative L2 {difference:E2}");
            Assert.InRange(difference, 0, unit);
            Assert.Equal(cpuGreedy[i], deviceGreedy[i]);
            Assert.Equal(reference.Cases[i].Greedy, deviceGreedy[i]);
        }
    }

    [Fact]
    public void Prefill_equals_decode_one_by_one_and_a_sequence_alone_equals_it_beside_another_bitwise()
    {
        int[] tokens = [1, 5, 900, 17, 4, 4, 1000, 3];
        int[] other = [1, 40, 41, 42, 43];
        using LlamaWeights weights = LlamaPresets.Create(LlamaPresets.Tiny);
        using Accelerator accelerator = Oracle.Open();
        using var model = new LlamaModel(accelerator, weights, new LlamaModelOptions(SlotCount: 3, SlotCapacity: 16));

        ModelLogits all = model.Prefill([new PrefillPrompt(0, tokens, 0, LogitsSelection.All)]);
        float[][] prefilled = [.. Enumerable.Range(0, all.RowCount).Select(r => all.Row(r).ToArray())];
        for (int i = 0; i < tokens.Length; i++)
        {
            Assert.Equal(prefilled[i], model.Decode([new DecodeRow(1, i, tokens[i])]).Row(0).ToArray());
        }

        model.Prefill([new PrefillPrompt(2, other), new PrefillPrompt(1, tokens.AsMemory(0, 4))]);
        ModelLogits beside = model.Decode([new DecodeRow(2, other.Length, 7), new DecodeRow(1, 4, tokens[4])]);
        Assert.Equal(prefilled[4], beside.Row(1).ToArray());
    }
}
