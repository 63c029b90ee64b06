using Flover.Gpu.Checkpoints;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints.Llama;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Llama;

namespace Flover.Gpu.Tests.Models.Llama;

/// <summary>The <see cref="IModel"/> guarantees for LLaMA, bitwise: prefill equals decode one by one, and a sequence's logits never depend on its neighbours, slot or workers.</summary>
public sealed class LlamaBatchInvarianceTests
{
    // GQA with llama3 rope: the case whose grouping and rotary tables have the most to get wrong.
    private static readonly string Folder = LlamaReferenceCase.FolderOf("llama-gqa-llama3rope");

    [Theory]
    [InlineData(TensorDType.F32)]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public void Decoding_token_by_token_equals_prefilling_the_whole_sequence_bitwise(TensorDType kvDType)
    {
        int[] tokens = [1, 17, 345, 99, 2, 512, 7, 800, 3, 44, 45, 46];
        using LlamaWeights weights = LlamaCheckpoint.Load(Folder);
        using Accelerator accelerator = new AcceleratorContext(new EngineOptions(2)).CreateDefault();
        using var model = new LlamaModel(accelerator, weights, new LlamaModelOptions(SlotCount: 2, SlotCapacity: 32, MaxRowsPerStep: 5) { KvDType = kvDType });

        ModelLogits all = model.Prefill([new PrefillPrompt(0, tokens, 0, LogitsSelection.All)]);
        float[][] prefilled = [.. Enumerable.Range(0, all.RowCount).Select(r => all.Row(r).ToArray())];
        for (int i = 0; i < tokens.Length; i++)
        {
            Assert.Equal(prefilled[i], model.Decode([new DecodeRow(1, i, tokens[i])]).Row(0).ToArray());
        }
    }

    [Theory]
    [InlineData(TensorDType.F32)]
    [InlineData(TensorDType.BF16)]
    public void A_sequence_alone_equals_the_same_sequence_beside_others_in_any_slot_and_worker_count_bitwise(TensorDType kvDType)
    {
        int[] prompt = [1, 800, 3, 61, 62];
        int[] other = [1, 40, 41, 42, 43, 44, 45, 46, 47];
        using LlamaWeights weights = LlamaCheckpoint.Load(Folder);

        float[][] alone = Run(weights, threads: 1, kvDType, model =>
        {
            model.Prefill([new PrefillPrompt(0, prompt)]);
            return [model.Decode([new DecodeRow(0, prompt.Length, 9)]).Row(0).ToArray()];
        });
        float[][] beside = Run(weights, threads: 3, kvDType, model =>
        {
            model.Prefill([new PrefillPrompt(1, other), new PrefillPrompt(3, prompt), new PrefillPrompt(2, other.AsMemory(0, 4))]);
            ModelLogits step = model.Decode([new DecodeRow(1, other.Length, 5), new DecodeRow(3, prompt.Length, 9), new DecodeRow(2, 4, 6)]);
            return [step.Row(1).ToArray()];
        });

        Assert.Equal(alone, beside);
    }

    private static float[][] Run(LlamaWeights weights, int threads, TensorDType kvDType, Func<LlamaModel, float[][]> steps)
    {
        using Accelerator accelerator = new AcceleratorContext(new EngineOptions(threads)).CreateDefault();
        using var model = new LlamaModel(accelerator, weights, new LlamaModelOptions(SlotCount: 4, SlotCapacity: 32) { KvDType = kvDType });
        return steps(model);
    }
}
