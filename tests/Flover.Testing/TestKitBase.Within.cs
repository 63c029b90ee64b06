using System.Diagnostics;
using Xunit.Sdk;

namespace Flover.Testing;

public abstract partial class TestKitBase
{
    /// <summary>Runs <paramref name="action"/> and asserts it finished within <paramref name="max"/>; expectations inside share that time.</summary>
    public void Within(TimeSpan max, Action action) => Within(TimeSpan.Zero, max, action);

    /// <summary>Runs <paramref name="action"/> and asserts it took between <paramref name="min"/> and <paramref name="max"/>.</summary>
    public void Within(TimeSpan min, TimeSpan max, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        Within(min, max, () =>
        {
            action();
            return true;
        });
    }

    /// <summary>Runs <paramref name="function"/> within <paramref name="max"/> and returns its result.</summary>
    public T Within<T>(TimeSpan max, Func<T> function) => Within(TimeSpan.Zero, max, function);

    /// <summary>Runs <paramref name="function"/>, asserting it took between <paramref name="min"/> and <paramref name="max"/>.</summary>
    public T Within<T>(TimeSpan min, TimeSpan max, Func<T> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        TimeSpan dilatedMax = Dilated(max);
        long start = Stopwatch.GetTimestamp();
        long? outer = _end;
        long end = start + (long)(dilatedMax.TotalSeconds * Stopwatch.Frequency);
        // A nested block never extends the enclosing one.
        _end = outer is { } o && o < end ? o : end;
        try
        {
            T result = function();
            TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
            if (elapsed < min)
            {
                throw new XunitException($"Block finished in {elapsed.TotalMilliseconds:F0} ms, before the minimum {min.TotalMilliseconds} ms.");
            }

            if (elapsed > dilatedMax)
            {
                throw new XunitException($"Block took {elapsed.TotalMilliseconds:F0} ms, more than the maximum {dilatedMax.TotalMilliseconds} ms.");
            }

            return result;
        }
        finally
        {
            _end = outer;
        }
    }

    /// <summary>Retries <paramref name="assertion"/> every <paramref name="interval"/> until it passes or the time is up (then rethrows its last failure).</summary>
    public void AwaitAssert(Action assertion, TimeSpan? duration = null, TimeSpan? interval = null)
    {
        ArgumentNullException.ThrowIfNull(assertion);
        TimeSpan max = RemainingOrDilated(duration ?? (_end is null ? DefaultTimeout : null));
        TimeSpan pause = interval ?? TimeSpan.FromMilliseconds(20);
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                assertion();
                return;
            }
            catch (Exception) when (Stopwatch.GetElapsedTime(start) < max)
            {
                // Polling is the contract of AwaitAssert; the kit, not the test, waits.
                Thread.Sleep(pause);
            }
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds, checking every <paramref name="interval"/>; fails when the time is up.</summary>
    public void AwaitCondition(Func<bool> condition, TimeSpan? max = null, TimeSpan? interval = null, string? message = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        TimeSpan limit = RemainingOrDilated(max ?? (_end is null ? DefaultTimeout : null));
        TimeSpan pause = interval ?? TimeSpan.FromMilliseconds(20);
        long start = Stopwatch.GetTimestamp();
        while (!condition())
        {
            if (Stopwatch.GetElapsedTime(start) >= limit)
            {
                throw new XunitException($"Condition not met within {limit.TotalMilliseconds} ms{(message is null ? string.Empty : ": " + message)}.");
            }

            Thread.Sleep(pause);
        }
    }

    /// <summary>Creates a probe: a separate test actor with its own queue and expectations.</summary>
    public TestProbe CreateTestProbe(string? name = null) => new(Sys, name);
}
