using Flover.Gpu.Accelerators;
using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;

namespace Flover.GpuCheck.Checks;

/// <summary>
/// Concurrent model instances on one device, each on a stream sibling of the accelerator holding the
/// weights and driven from a thread of its own (the instances baseline of the paper's experiment):
/// every instance's logits must be bitwise those of its sequence decoded alone on the home stream.
/// </summary>
internal static class StreamChecks
{
    private static readonly int[][] Sequences = [[3, 14, 15, 92, 65, 35, 89], [27, 18, 28, 1, 2], [1, 41, 42, 13, 56, 7], [9, 8, 7, 6, 5, 4, 3, 2]];

    /// <summary>
    /// Decodes <paramref name="instances"/> sequences alone on the home accelerator, then all at once,
    /// each on its own sibling stream and thread over the same upload of the weights, released together.
    /// Returns a description of the first difference, or null when every row is bitwise equal.
    /// </summary>
    public static string? ConcurrentInstancesEqualAlone(Func<Accelerator> open, IModelWeights weights, int instances)
    {
        int vocabulary = weights.Config.VocabularySize;
        int[][] sequences = [.. Enumerable.Range(0, instances).Select(i => Sequences[i % Sequences.Length].Select(t => (t + i) % vocabulary).ToArray())];
        int capacity = sequences.Max(s => s.Length) + 1;
        using Accelerator opened = open();
        var home = (IlgpuAccelerator)opened;
        using var shared = new Gpt2SharedWeights(home, weights);
        float[][][] alone = [.. sequences.Select(s => Decode(home, shared, s, capacity))];

        var siblings = new List<IlgpuAccelerator>();
        try
        {
            siblings.AddRange(Enumerable.Range(0, instances).Select(_ => home.CreateStreamSibling()));
            var results = new float[instances][][];
            var errors = new Exception?[instances];
            // Every instance starts its first launch together, so their streams' work interleaves.
            using var start = new Barrier(instances);
            Thread[] threads = [.. Enumerable.Range(0, instances).Select(i => new Thread(() =>
            {
                try
                {
                    results[i] = Decode(siblings[i], shared, sequences[i], capacity, start);
                }
                catch (Exception exception)
                {
                    errors[i] = exception;
                    start.RemoveParticipant();
                }
            }) { IsBackground = true, Name = $"instance {i}" })];
            foreach (Thread thread in threads)
            {
                thread.Start();
            }

            foreach (Thread thread in threads)
            {
                thread.Join();
            }

            for (int i = 0; i < instances; i++)
            {
                if (errors[i] is { } error)
                {
                    return $"instance {i} failed: {error.GetType().Name}: {error.Message}";
                }

                for (int step = 0; step < sequences[i].Length; step++)
                {
                    if (!results[i][step].AsSpan().SequenceEqual(alone[i][step]))
                    {
                        return $"instance {i} step {step}: its logits on a stream of its own differ from its solo logits on the home stream.";
                    }
                }
            }

            return null;
        }
        finally
        {
            foreach (IlgpuAccelerator sibling in siblings)
            {
                sibling.Dispose();
            }
        }
    }

    private static float[][] Decode(Accelerator accelerator, Gpt2SharedWeights shared, int[] sequence, int capacity, Barrier? start = null)
    {
        using var model = new Gpt2Model(accelerator, shared, new Gpt2ModelOptions(SlotCount: 1, SlotCapacity: capacity, MaxRowsPerStep: 8));
        start?.SignalAndWait();
        return [.. sequence.Select((token, step) => model.Decode([new DecodeRow(0, step, token)]).Row(0).ToArray())];
    }
}
