using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;

namespace Flover.Gpu.Tests.Models;

/// <summary>An accelerator and a model over test weights, disposed together.</summary>
internal sealed class ModelHarness : IDisposable
{
    public ModelHarness(IModelWeights weights, int threads = 1, int slots = 4, int capacity = 0, int rowsPerStep = 256, TensorDType? weightDType = null, TensorDType kvDType = TensorDType.F32)
    {
        Accelerator = new AcceleratorContext(new EngineOptions(threads)).CreateDefault();
        Model = new Gpt2Model(Accelerator, weights, new Gpt2ModelOptions(slots, capacity, rowsPerStep, weightDType) { KvDType = kvDType });
    }

    public Accelerator Accelerator { get; }

    public Gpt2Model Model { get; }

    /// <summary>Prefills <paramref name="tokens"/> into <paramref name="slot"/> and copies every row's logits.</summary>
    public float[][] PrefillAll(int slot, int[] tokens, int start = 0)
    {
        ModelLogits logits = Model.Prefill([new PrefillPrompt(slot, tokens, start, LogitsSelection.All)]);
        return Enumerable.Range(0, logits.RowCount).Select(r => logits.Row(r).ToArray()).ToArray();
    }

    /// <summary>Feeds <paramref name="tokens"/> one decode step at a time from position 0; copies each step's logits.</summary>
    public float[][] DecodeEach(int slot, int[] tokens)
    {
        var rows = new float[tokens.Length][];
        for (int i = 0; i < tokens.Length; i++)
        {
            rows[i] = Model.Decode([new DecodeRow(slot, i, tokens[i])]).Row(0).ToArray();
        }

        return rows;
    }

    public void Dispose()
    {
        Model.Dispose();
        Accelerator.Dispose();
    }
}
