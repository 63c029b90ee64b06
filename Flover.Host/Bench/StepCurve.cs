using System.Diagnostics;
using Flover.Gpu.Models;

namespace Flover.Host.Bench;

/// <summary>
/// The engine's own step-time curve t(n): the time of one fused decode step over n sequences,
/// measured on the fused loop's model, and what it allows a workload (the ideal makespan).
/// </summary>
internal static class StepCurve
{
    /// <summary>
    /// Median time of <paramref name="repeats"/> decode steps over n rows, n = 1..<paramref name="maxRows"/>,
    /// at <paramref name="position"/> (a typical context length of the workload) in slots 0..n-1.
    /// The sizes are measured round-robin (n = 1..max, then again), so a burst of load from
    /// another process spreads over every n instead of bending the curve at one.
    /// </summary>
    public static double[] Measure(IModel model, int maxRows, int position, int repeats)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxRows, model.SlotCount);
        position = Math.Clamp(position, 0, model.SlotCapacity - 1);
        DecodeRow[][] rows = [.. Enumerable.Range(1, maxRows).Select(n => Enumerable.Range(0, n).Select(slot => new DecodeRow(slot, position, 198 + slot)).ToArray())];
        var times = new double[maxRows][];
        for (int n = 1; n <= maxRows; n++)
        {
            times[n - 1] = new double[repeats];
            model.Decode(rows[n - 1]);
        }

        for (int r = 0; r < repeats; r++)
        {
            for (int n = 1; n <= maxRows; n++)
            {
                long start = Stopwatch.GetTimestamp();
                model.Decode(rows[n - 1]);
                times[n - 1][r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
        }

        return [.. times.Select(t => Statistics.Median(t))];
    }

    /// <summary>
    /// The makespan of the ideal fused schedule under <paramref name="curve"/>: every arrived
    /// request joins at the next iteration, an iteration over n live sequences takes t(n) and
    /// gives each one token (a request's first token, from its prefill, included), nothing else
    /// costs time. From the first arrival to the last completion, in seconds.
    /// </summary>
    public static double IdealMakespan(IReadOnlyList<double> curve, IReadOnlyList<(double Arrival, int Tokens)> requests)
    {
        ArgumentOutOfRangeException.ThrowIfZero(curve.Count);
        var pending = requests.OrderBy(r => r.Arrival).ToList();
        if (pending.Count == 0)
        {
            return 0;
        }

        double first = pending[0].Arrival;
        double time = first;
        var remaining = new List<int>();
        int next = 0;
        while (next < pending.Count || remaining.Count > 0)
        {
            for (; next < pending.Count && pending[next].Arrival <= time; next++)
            {
                remaining.Add(pending[next].Tokens);
            }

            if (remaining.Count == 0)
            {
                time = pending[next].Arrival;
                continue;
            }

            time += StepTime(curve, remaining.Count);
            for (int i = remaining.Count - 1; i >= 0; i--)
            {
                if (--remaining[i] == 0)
                {
                    remaining.RemoveAt(i);
                }
            }
        }

        return time - first;
    }

    /// <summary>t(n); beyond the measured range, extrapolated linearly from the last two points.</summary>
    public static double StepTime(IReadOnlyList<double> curve, int n)
    {
        if (n <= curve.Count)
        {
            return curve[n - 1];
        }

        double slope = curve.Count > 1 ? Math.Max(0, curve[^1] - curve[^2]) : curve[^1];
        return curve[^1] + (slope * (n - curve.Count));
    }
}
