using System.Diagnostics;
using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Models;

/// <summary>
/// Where a model's steps spend their time, phase by phase (upload, embedding, each kind of kernel,
/// download), summed over the steps run while it is attached (<see cref="SlotCacheModel.Profile"/>).
/// Every mark synchronises the accelerator first, so on a GPU, where kernels queue, a phase's time
/// is its kernels' own rather than their launch cost; profiling therefore slows the steps (a
/// synchronisation per phase) and is for measurement only (<c>bench-decode --profile</c>). One
/// thread at a time, like the model.
/// </summary>
public sealed class StepProfile
{
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly List<StepPhase> _phases = [];
    private long _last;

    /// <summary>Every phase seen, in the order first seen, with its total time and calls.</summary>
    public IReadOnlyList<StepPhase> Phases => _phases;

    /// <summary>The sum of every phase's time.</summary>
    public TimeSpan Total => TimeSpan.FromTicks(_phases.Sum(p => p.Time.Ticks));

    /// <summary>Starts timing a pass: the next <see cref="Mark"/> counts from now.</summary>
    public void Begin() => _last = Stopwatch.GetTimestamp();

    /// <summary>Ends <paramref name="phase"/>: waits for <paramref name="accelerator"/>'s queued work, then adds the time since the previous mark.</summary>
    public void Mark(Accelerator accelerator, string phase)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        accelerator.Synchronize();
        long now = Stopwatch.GetTimestamp();
        TimeSpan elapsed = Stopwatch.GetElapsedTime(_last, now);
        _last = now;
        if (_index.TryGetValue(phase, out int at))
        {
            StepPhase seen = _phases[at];
            _phases[at] = seen with { Time = seen.Time + elapsed, Calls = seen.Calls + 1 };
        }
        else
        {
            _index[phase] = _phases.Count;
            _phases.Add(new StepPhase(phase, elapsed, 1));
        }
    }

    /// <summary>Forgets every phase (between two measurements).</summary>
    public void Reset()
    {
        _index.Clear();
        _phases.Clear();
    }
}

/// <summary>One phase of a <see cref="StepProfile"/>.</summary>
/// <param name="Name">The phase (<c>qkv</c>, <c>attention</c>, ...).</param>
/// <param name="Time">Total time in it.</param>
/// <param name="Calls">Times it ran (per layer phases run once per layer per pass).</param>
public readonly record struct StepPhase(string Name, TimeSpan Time, long Calls);
