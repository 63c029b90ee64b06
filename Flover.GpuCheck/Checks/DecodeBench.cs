using System.Diagnostics;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;

namespace Flover.GpuCheck.Checks;

/// <summary>
/// <c>bench-decode</c>-style timing: a model of random weights, <c>batch</c> sequences decoding
/// one token each per step from position 0, logits to the host every step (greedy on the host, as the
/// engine samples), timed after warm-up. Same shapes as scripts/torch_graph_peer.py's GPT-2 rows.
/// </summary>
internal static class DecodeBench
{
    public static IEnumerable<string> Run(Func<Accelerator> open, IModelWeights weights, TensorDType weightType, int[] batches, int steps)
    {
        int capacity = Math.Min(128, weights.Config.MaxPositions);
        using Accelerator accelerator = open();
        var started = Stopwatch.StartNew();
        var options = new Gpt2ModelOptions(SlotCount: batches.Max(), SlotCapacity: capacity, MaxRowsPerStep: batches.Max(), WeightDType: weightType);
        if (accelerator is IlgpuAccelerator device)
        {
            DeviceMemoryPlan.Check(device, weights, options);
        }

        using var model = new Gpt2Model(accelerator, weights, options);
        yield return $"  {weights.Config.LayerCount} layers x {weights.Config.EmbeddingSize} wide, {weightType} weights ({model.WeightBytes / 1e6:F0} MB), KV {model.KvCacheBytes / 1e6:F0} MB: upload {started.Elapsed.TotalSeconds:F2} s";
        foreach (int batch in batches)
        {
            var rows = new DecodeRow[batch];
            int[] tokens = [.. Enumerable.Range(0, batch).Select(i => (i * 7919) % weights.Config.VocabularySize)];
            double Step(int position)
            {
                for (int i = 0; i < batch; i++)
                {
                    rows[i] = new DecodeRow(i, position, tokens[i]);
                }

                long start = Stopwatch.GetTimestamp();
                ModelLogits logits = model.Decode(rows);
                for (int i = 0; i < batch; i++)
                {
                    tokens[i] = Compare.ArgMax(logits.Row(i));
                }

                return Stopwatch.GetElapsedTime(start).TotalSeconds;
            }

            for (int position = 0; position < 4; position++)
            {
                Step(position);
            }

            double total = 0;
            int timed = Math.Min(steps, capacity - 4);
            for (int position = 4; position < 4 + timed; position++)
            {
                total += Step(position);
            }

            double perStep = total / timed;
            yield return $"  b={batch,4}: {perStep * 1e3,8:F3} ms/step = {batch / perStep,10:F1} tok/s (positions 4..{3 + timed})";
        }
    }
}
