using System.Diagnostics;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Sampling;

namespace Flover.GpuCheck.Checks;

/// <summary>
/// What choosing a step's tokens costs: on the device (<see cref="Accelerator.ArgMaxRows"/> or
/// <see cref="Accelerator.SampleRows"/>, then the ids copied back) against the earlier path (every
/// row copied to the host, then <see cref="RequestSampler.Sample"/> row by row), per mode and batch,
/// on random logits of a vocabulary's width. The logits are uploaded again before each timed step
/// (sampling edits them in place) and that upload is not timed.
/// </summary>
internal static class SamplingBench
{
    private static readonly (string Name, SamplingParameters Parameters)[] Modes =
    [
        ("greedy", new SamplingParameters { Temperature = 0 }),
        ("temperature 1", new SamplingParameters()),
        ("top-k 50, top-p 0.9, T 0.8", new SamplingParameters { Temperature = 0.8f, TopK = 50, TopP = 0.9f }),
        ("top-p 0.9", new SamplingParameters { TopP = 0.9f }),
        ("top-k 50, repetition 1.2, logprobs 5", new SamplingParameters { TopK = 50, RepetitionPenalty = 1.2f, Logprobs = 5 }),
    ];

    public static IEnumerable<string> Run(Accelerator accelerator, int vocabulary, int[] batches, int steps)
    {
        var random = new Random(7);
        int[] prompt = [.. Enumerable.Range(0, 64).Select(_ => random.Next(vocabulary))];
        foreach (int batch in batches)
        {
            float[] logits = [.. Enumerable.Range(0, batch * vocabulary).Select(_ => (float)((random.NextDouble() * 12) - 6))];
            using MemoryBuffer<float> deviceLogits = accelerator.Allocate<float>(logits.Length);
            using MemoryBuffer<int> ids = accelerator.Allocate<int>(batch);
            using MemoryBuffer<float> logprobs = accelerator.Allocate<float>(batch * RowSampling.LogprobsPerRow);
            using MemoryBuffer<int> topIds = accelerator.Allocate<int>(batch * RowSampling.MaxTopLogprobs);
            var hostIds = new int[batch];
            var hostLogits = new float[logits.Length];
            foreach ((string name, SamplingParameters parameters) in Modes)
            {
                RequestSampler NewSampler() => new(parameters, vocabulary, 0, prompt);
                RowSampling?[] rows = [.. Enumerable.Range(0, batch).Select(_ => NewSampler().DeviceSampling())];
                double device = 0;
                double host = 0;
                for (int step = -1; step < steps; step++)
                {
                    accelerator.CopyFromCpu<float>(logits, deviceLogits.View);
                    long start = Stopwatch.GetTimestamp();
                    if (parameters.Temperature == 0)
                    {
                        accelerator.ArgMaxRows(deviceLogits.View, batch, vocabulary, vocabulary, ids.View);
                    }
                    else
                    {
                        accelerator.SampleRows(deviceLogits.View, vocabulary, rows, ids.View, logprobs.View, topIds.View);
                    }

                    accelerator.CopyToCpu(ids.View, hostIds);
                    double deviceSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                    accelerator.CopyFromCpu<float>(logits, deviceLogits.View);
                    start = Stopwatch.GetTimestamp();
                    accelerator.CopyToCpu(deviceLogits.View, hostLogits);
                    for (int r = 0; r < batch; r++)
                    {
                        NewSampler().Sample(hostLogits.AsSpan(r * vocabulary, vocabulary));
                    }

                    double hostSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                    if (step >= 0)
                    {
                        // Step −1 warms up (kernel load, scratch growth).
                        device += deviceSeconds;
                        host += hostSeconds;
                    }
                }

                yield return $"  batch {batch,3}, {name}: on the device {device / steps * 1e6:F0} us/step, rows to the host and sampled there {host / steps * 1e6:F0} us/step";
            }
        }
    }
}
