using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;

namespace Flover.GpuCheck.Checks;

/// <summary>What a model comparison found.</summary>
/// <param name="WorstRelativeL2">The largest relative L2 distance of any logits row from the reference.</param>
/// <param name="GreedyEqual">Whether greedy continuations were the same tokens.</param>
/// <param name="Greedy">The device's greedy continuation.</param>
internal sealed record ModelComparison(double WorstRelativeL2, bool GreedyEqual, int[] Greedy);

/// <summary>
/// The whole GPT-2 step on a device accelerator against the CPU engine, and the device's batch
/// invariance in every memory mode. <c>open</c> makes a fresh device accelerator per model.
/// </summary>
internal static class ModelChecks
{
    /// <summary>
    /// Prefills <paramref name="prompt"/> (every row's logits), then decodes <paramref name="steps"/>
    /// greedy tokens, on the device and on the CPU engine with the same weight and KV precision.
    /// </summary>
    public static ModelComparison AgainstCpuEngine(Func<Accelerator> open, IModelWeights weights, TensorDType? weightType, int[] prompt, int steps, TensorDType kvType = TensorDType.F32)
    {
        var options = new Gpt2ModelOptions(SlotCount: 3, SlotCapacity: prompt.Length + steps + 1, MaxRowsPerStep: 16, WeightDType: weightType) { KvDType = kvType };
        (float[][] expected, int[] expectedGreedy) = Run(new AcceleratorContext(new EngineOptions(1)).CreateDefault(), weights, options, prompt, steps);
        (float[][] actual, int[] greedy) = Run(open(), weights, options, prompt, steps);
        return new ModelComparison(Compare.WorstRow(actual, expected), greedy.SequenceEqual(expectedGreedy), greedy);
    }

    /// <summary>
    /// Bitwise batch invariance on the device: each sequence decoded alone (slot 0, a model of its
    /// own on the same accelerator) against the same sequences fused in one batch under <paramref name="mode"/>,
    /// both with a KV cache of <paramref name="kvType"/>. Returns a description of the first
    /// difference, or null when every row is bitwise equal.
    /// </summary>
    public static string? FusedEqualsAlone(Func<Accelerator> open, IModelWeights weights, MemoryMode mode, TensorDType kvType = TensorDType.F32)
    {
        int vocabulary = weights.Config.VocabularySize;
        int[][] sequences = [[3, 14, 15, 92, 65, 35, 89], [27, 18, 28], [1, 41, 42, 13, 56], [9, 8, 7, 6, 5, 4]];
        sequences = [.. sequences.Select(s => s.Select(t => t % vocabulary).ToArray())];
        int capacity = sequences.Max(s => s.Length) + 1;
        using Accelerator accelerator = open();
        // Each sequence alone: a model of its own (slot 0, batch of one) on the same device.
        float[][][] alone = [.. sequences.Select(s => DecodeAlone(accelerator, weights, s, capacity, kvType))];

        using var model = new Gpt2Model(accelerator, weights, new Gpt2ModelOptions(SlotCount: 8, SlotCapacity: capacity, MaxRowsPerStep: 8) { KvDType = kvType });
        // indexed: scattered slots; holes: a dense window with dead rows computed; shuffle: the window compacted by slot moves.
        int[] slots = mode == MemoryMode.Indexed ? [6, 1, 4, 7] : [0, 1, 2, 3];
        int longest = sequences.Max(s => s.Length);
        for (int step = 0; step < longest; step++)
        {
            var rows = new List<DecodeRow>();
            var owners = new List<int>();
            for (int i = 0; i < sequences.Length; i++)
            {
                if (step < sequences[i].Length)
                {
                    rows.Add(new DecodeRow(slots[i], step, sequences[i][step]));
                    owners.Add(i);
                }
                else if (mode == MemoryMode.Holes && step < capacity)
                {
                    // A finished sequence's row stays in the window and is computed, its logits ignored.
                    rows.Add(new DecodeRow(slots[i], step, 0));
                    owners.Add(-1);
                }
            }

            ModelLogits logits = model.Decode([.. rows]);
            for (int r = 0; r < owners.Count; r++)
            {
                if (owners[r] >= 0 && !logits.Row(r).SequenceEqual(alone[owners[r]][step]))
                {
                    return $"{mode}: sequence {owners[r]} step {step} differs from its solo logits (batch of {rows.Count}).";
                }
            }

            if (mode == MemoryMode.Shuffle)
            {
                // Retire finished sequences and compact: move the last live slot into each hole.
                for (int i = 0; i < sequences.Length; i++)
                {
                    if (step + 1 == sequences[i].Length)
                    {
                        int hole = slots[i];
                        int last = Enumerable.Range(0, sequences.Length).Where(j => sequences[j].Length > step + 1).Select(j => slots[j]).DefaultIfEmpty(-1).Max();
                        if (last > hole)
                        {
                            int mover = Array.IndexOf(slots, last);
                            model.Copy(last, hole, step + 1);
                            slots[mover] = hole;
                        }

                        slots[i] = -1;
                    }
                }
            }
        }

        return null;
    }

    /// <summary>Greedy tokens of an <see cref="IModel"/>: prefill the prompt, then one decode row per step.</summary>
    public static int[] Greedy(IModel model, int[] prompt, int steps)
    {
        int token = Compare.ArgMax(model.Prefill([new PrefillPrompt(0, prompt)]).Row(0));
        var tokens = new List<int> { token };
        for (int step = 1; step < steps; step++)
        {
            token = Compare.ArgMax(model.Decode([new DecodeRow(0, prompt.Length + step - 1, token)]).Row(0));
            tokens.Add(token);
        }

        return [.. tokens];
    }

    private static float[][] DecodeAlone(Accelerator accelerator, IModelWeights weights, int[] sequence, int capacity, TensorDType kvType)
    {
        using var model = new Gpt2Model(accelerator, weights, new Gpt2ModelOptions(SlotCount: 1, SlotCapacity: capacity, MaxRowsPerStep: 8) { KvDType = kvType });
        return [.. sequence.Select((token, step) => model.Decode([new DecodeRow(0, step, token)]).Row(0).ToArray())];
    }

    private static (float[][] Logits, int[] Greedy) Run(Accelerator accelerator, IModelWeights weights, Gpt2ModelOptions options, int[] prompt, int steps)
    {
        using (accelerator)
        using (var model = new Gpt2Model(accelerator, weights, options))
        {
            ModelLogits prefill = model.Prefill([new PrefillPrompt(1, prompt, 0, LogitsSelection.All)]);
            var rows = Enumerable.Range(0, prefill.RowCount).Select(r => prefill.Row(r).ToArray()).ToList();
            var greedy = new List<int>();
            for (int step = 0; step < steps; step++)
            {
                int token = Compare.ArgMax(rows[^1]);
                greedy.Add(token);
                rows.Add(model.Decode([new DecodeRow(1, prompt.Length + step, token)]).Row(0).ToArray());
            }

            return ([.. rows], [.. greedy]);
        }
    }
}

/// <summary>How a batch's sequences sit in the KV pool (the engine's <c>flover.memory.mode</c>).</summary>
public enum MemoryMode
{
    /// <summary>Each row attends its own slot, wherever it is; holes cost nothing.</summary>
    Indexed,

    /// <summary>A dense window of slots; finished sequences' rows are still computed.</summary>
    Holes,

    /// <summary>A dense window kept compact by moving slots (device copies) as sequences finish.</summary>
    Shuffle,
}
