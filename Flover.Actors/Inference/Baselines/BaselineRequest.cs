using Flover.Gpu.Sampling;

namespace Flover.Actors.Inference.Baselines;

/// <summary>One request's state in a request-level baseline scheduler.</summary>
internal sealed class BaselineRequest(long id, int[] prompt, RequestSampler sampler, DateTimeOffset? deadline, DateTimeOffset submittedAt)
{
    public long Id { get; } = id;

    public int[] Prompt { get; } = prompt;

    public RequestSampler Sampler { get; } = sampler;

    public DateTimeOffset? Deadline { get; } = deadline;

    /// <summary>When it was queued: the dynamic scheduler's batching window starts at the oldest waiting one's.</summary>
    public DateTimeOffset SubmittedAt { get; } = submittedAt;

    public int Slot { get; set; } = -1;

    public int GeneratedCount { get; set; }

    /// <summary>Positions written in its slot; also the position of its next decode row.</summary>
    public int KvLength { get; set; }

    public int LastToken { get; set; }

    /// <summary>Set once the request has left (its row may still be computed, finished rows stay in a dynamic batch).</summary>
    public FinishReason? Finished { get; set; }

    // Set by the scheduler's owner, read by an instance's thread at its next step.
    private volatile int _pendingRetire = -1;

    /// <summary>Cancelled or stopped by its client: ends at the next step (read across threads).</summary>
    public FinishReason? PendingRetire
    {
        get => _pendingRetire < 0 ? null : (FinishReason)_pendingRetire;
        set => _pendingRetire = value is { } reason ? (int)reason : -1;
    }

    public LinkedListNode<BaselineRequest>? QueueNode { get; set; }

    /// <summary>The reason it must end before the next step (cancelled, stopped, past its deadline), if any.</summary>
    public FinishReason? RetireReason(DateTimeOffset now) =>
        PendingRetire ?? (Deadline is { } deadline && now >= deadline ? FinishReason.Timeout : null);
}
