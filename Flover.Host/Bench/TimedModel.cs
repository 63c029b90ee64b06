using System.Diagnostics;
using Flover.Gpu.Models;

namespace Flover.Host.Bench;

/// <summary>
/// Wraps a model and times its calls, so the bench can tell the model's step from the
/// scheduler's own work (the loop overhead). Each instance is called by one thread at a time;
/// the driver takes the counters between steps (atomically: free-running instances add to them
/// from their own threads meanwhile).
/// </summary>
internal sealed class TimedModel(IModel inner) : IModel
{
    public int VocabularySize => inner.VocabularySize;

    public int SlotCount => inner.SlotCount;

    public int SlotCapacity => inner.SlotCapacity;

    public long KvBytesPerSlot => inner.KvBytesPerSlot;

    /// <summary>Stopwatch ticks spent in Prefill, Decode and Copy since the last <see cref="TakeTicks"/>.</summary>
    private long _ticks;

    /// <summary>Stopwatch ticks spent in Copy (KV shuffles) since the last <see cref="TakeCopyTicks"/>.</summary>
    private long _copyTicks;

    public long TakeTicks() => Interlocked.Exchange(ref _ticks, 0);

    public long TakeCopyTicks() => Interlocked.Exchange(ref _copyTicks, 0);

    public ModelLogits Prefill(IReadOnlyList<PrefillPrompt> prompts)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            return inner.Prefill(prompts);
        }
        finally
        {
            Interlocked.Add(ref _ticks, Stopwatch.GetTimestamp() - start);
        }
    }

    public ModelLogits Decode(ReadOnlySpan<DecodeRow> rows)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            return inner.Decode(rows);
        }
        finally
        {
            Interlocked.Add(ref _ticks, Stopwatch.GetTimestamp() - start);
        }
    }

    public void Copy(int fromSlot, int toSlot, int length)
    {
        long start = Stopwatch.GetTimestamp();
        inner.Copy(fromSlot, toSlot, length);
        long elapsed = Stopwatch.GetTimestamp() - start;
        Interlocked.Add(ref _ticks, elapsed);
        Interlocked.Add(ref _copyTicks, elapsed);
    }

    public void Release(int slot)
    {
        // Handing pages back is memory management, like a copy: counted in the model's time, not a computed row.
        long start = Stopwatch.GetTimestamp();
        inner.Release(slot);
        Interlocked.Add(ref _ticks, Stopwatch.GetTimestamp() - start);
    }

    public void Dispose() => inner.Dispose();
}
