using Flover.Gpu.Memory;
using Flover.Gpu.Models;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Inference;

/// <summary>
/// Temporal fusion as a plain class (the <c>DecodeLoopActor</c> drives it): every call to
/// <see cref="Step"/> is one iteration. It retires cancelled and expired requests, compacts KV
/// memory (shuffle mode), admits waiting requests while slots and the prefill token budget allow
/// (long prompts are chunked across iterations), runs ONE fused decode step over every live
/// sequence, each at its own slot and position, samples every row with the request's own
/// counter-based sampler, and retires finished requests in the same iteration. No request ever
/// waits for a batch to fill. Not thread-safe: one owner calls it.
/// </summary>
/// <remarks>
/// Recovery: when a model call throws, every sequence it involved loses its slot and goes back to
/// the head of the queue keeping its history; re-admission prefills prompt + generated tokens,
/// which reproduces the KV cache bitwise (batch invariance), and its sampler continues at the
/// next token index, so no token is lost or repeated. A request implicated in
/// <see cref="DecodeLoopOptions.MaxConsecutiveFailures"/> failed steps in a row ends with Error.
/// </remarks>
public sealed partial class FusedDecodeLoop : IDecodeScheduler
{
    private readonly IModel _model;
    private readonly DecodeLoopOptions _options;
    private readonly TimeProvider _clock;
    private readonly SlotAllocator _slots;
    private readonly LinkedList<Sequence> _waiting = new();
    private readonly Dictionary<long, Sequence> _byId = [];
    private readonly Sequence?[] _bySlot;
    private readonly List<DecodeRow> _rows = [];
    private readonly List<Sequence?> _rowOwners = [];
    private readonly List<int> _computed = [];
    private readonly List<LoopFinished> _finishedOutsideStep = [];

    /// <summary>Creates the loop over <paramref name="model"/>'s KV slots.</summary>
    public FusedDecodeLoop(IModel model, DecodeLoopOptions options, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.PrefillTokenBudget, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxWaiting);
        _model = model;
        _options = options;
        _clock = clock ?? TimeProvider.System;
        _slots = new SlotAllocator(model.SlotCount, options.MemoryMode);
        _bySlot = new Sequence?[model.SlotCount];
    }

    /// <inheritdoc />
    public string Kind => "fused";

    /// <summary>Shuffle mode with planning left to a shuffle actor (<see cref="ApplyCompaction"/>).</summary>
    public bool ExternalCompaction => _options.ExternalCompaction;

    /// <summary>Always null: the fused loop never waits for a batch to fill.</summary>
    public DateTimeOffset? NextStepAt => null;

    /// <summary>Requests waiting for admission (including one partly prefilled).</summary>
    public int WaitingCount => _waiting.Count;

    /// <summary>Requests holding a KV slot.</summary>
    public int RunningCount => _slots.LiveCount;

    /// <summary>KV slots in use.</summary>
    public int SlotsUsed => _slots.LiveCount;

    /// <summary>KV slots free.</summary>
    public int SlotsFree => _slots.SlotCount - _slots.LiveCount;

    /// <summary>The model's KV slots.</summary>
    public int SlotCount => _slots.SlotCount;

    /// <summary>Each slot: held by its sequence's request; in the holes and shuffle modes a free slot inside the window is a hole (the step computes it).</summary>
    public void DescribeSlots(Span<KvSlot> slots)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots.Length, _slots.SlotCount, nameof(slots));
        bool windowed = _options.MemoryMode != MemoryMode.Indexed;
        int start = _slots.WindowStart;
        int end = _slots.WindowEnd;
        for (int slot = 0; slot < _slots.SlotCount; slot++)
        {
            slots[slot] = _bySlot[slot] is { } sequence ? KvSlot.HeldBy(sequence.Id)
                : windowed && slot > start && slot < end ? KvSlot.Hole
                : KvSlot.Free;
        }
    }

    /// <summary>True while any request is waiting or running: the owner keeps calling <see cref="Step"/>.</summary>
    public bool HasWork => _byId.Count > 0 || _finishedOutsideStep.Count > 0;

    /// <summary>
    /// Queues a request. Returns null when accepted, or why it was rejected (queue full, prompt
    /// empty or too long for a slot, duplicate id, invalid sampling parameters).
    /// </summary>
    public string? Submit(long requestId, ReadOnlyMemory<int> prompt, SamplingParameters parameters, DateTimeOffset? deadline = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (_byId.ContainsKey(requestId))
        {
            return $"request {requestId} is already in the loop";
        }

        if (prompt.IsEmpty)
        {
            return "the prompt is empty: give at least one token";
        }

        if (prompt.Length >= _model.SlotCapacity)
        {
            return $"the prompt has {prompt.Length} tokens; a KV slot holds {_model.SlotCapacity} positions, so at most {_model.SlotCapacity - 1} leave room to generate";
        }

        if (_waiting.Count >= _options.MaxWaiting)
        {
            return $"the waiting queue is full ({_options.MaxWaiting} requests; flover.engine.max-waiting)";
        }

        RequestSampler sampler;
        try
        {
            sampler = new RequestSampler(parameters, _model.VocabularySize, _options.EosTokenId, prompt.Span);
        }
        catch (Exception exception) when (exception is Gpu.FloverException or ArgumentException)
        {
            return exception.Message;
        }

        var sequence = new Sequence(requestId, prompt.ToArray(), sampler, deadline);
        _byId.Add(requestId, sequence);
        sequence.QueueNode = _waiting.AddLast(sequence);
        return null;
    }

    /// <summary>Retires the request at the next iteration with <see cref="FinishReason.Cancelled"/>; unknown ids are ignored.</summary>
    public void Cancel(long requestId) => MarkRetire(requestId, FinishReason.Cancelled);

    /// <summary>
    /// The request's client found a stop sequence: it retires at the next iteration with
    /// <see cref="FinishReason.StopSequence"/>, and a token produced meanwhile is discarded.
    /// </summary>
    public void StopSequenceFound(long requestId) => MarkRetire(requestId, FinishReason.StopSequence);

    private void MarkRetire(long requestId, FinishReason reason)
    {
        if (_byId.TryGetValue(requestId, out Sequence? sequence) && sequence.PendingRetire is null)
        {
            sequence.PendingRetire = reason;
        }
    }

    /// <summary>One iteration. Call while <see cref="HasWork"/>.</summary>
    public IterationReport Step()
    {
        var tokens = new List<LoopToken>();
        var finished = new List<LoopFinished>(_finishedOutsideStep);
        _finishedOutsideStep.Clear();
        RetireMarked(finished);
        CompactionPlan? compaction = null;
        int prefilled = 0;
        int decodeRows = 0;
        int liveRows = 0;
        bool failed = false;
        List<Sequence> involved = [];
        try
        {
            compaction = Compact(involved);
            prefilled = Admit(tokens, finished, involved);
            (decodeRows, liveRows) = DecodeLive(tokens, finished, involved);
        }
        catch (Exception exception)
        {
            failed = true;
            Recover(involved, exception, finished);
        }

        return new IterationReport(tokens, finished, compaction, decodeRows, liveRows, prefilled, failed);
    }

    private void RetireMarked(List<LoopFinished> finished)
    {
        DateTimeOffset now = _clock.GetUtcNow();
        foreach (Sequence sequence in _byId.Values.ToList())
        {
            if (sequence.PendingRetire is FinishReason reason)
            {
                Retire(sequence, reason, finished);
            }
            else if (sequence.Deadline is { } deadline && now >= deadline)
            {
                Retire(sequence, FinishReason.Timeout, finished);
            }
        }
    }

    /// <summary>True when retirements left holes inside the window (shuffle mode): a compaction is worth planning.</summary>
    public bool HasInteriorHoles => _options.MemoryMode == MemoryMode.Shuffle && _slots.LiveCount > 0 && _slots.WindowEnd - _slots.WindowStart + 1 > _slots.LiveCount;

    /// <summary>Changes whenever a slot is taken or freed: a plan made for another version is stale.</summary>
    public long OccupancyVersion { get; private set; }

    /// <summary>A copy of the slot occupancy (true = live), for a shuffle actor to plan on.</summary>
    public bool[] OccupancySnapshot()
    {
        bool[] live = new bool[_slots.SlotCount];
        for (int i = 0; i < live.Length; i++)
        {
            live[i] = _slots.IsLive(i);
        }

        return live;
    }

    /// <summary>
    /// Applies a plan made elsewhere (the shuffle actor) for <paramref name="version"/>, between
    /// iterations. Returns false, doing nothing, when the occupancy has changed since.
    /// </summary>
    public bool ApplyCompaction(CompactionPlan plan, long version)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (version != OccupancyVersion || !_slots.TryApply(plan))
        {
            return false;
        }

        var involved = new List<Sequence>();
        try
        {
            MoveSequences(plan, involved);
        }
        catch (Exception exception)
        {
            // Reported with the next iteration: a request that keeps failing here ends with Error.
            Recover(involved, exception, _finishedOutsideStep);
        }

        OccupancyVersion++;
        return true;
    }

    private CompactionPlan? Compact(List<Sequence> involved)
    {
        if (_options.ExternalCompaction)
        {
            return null;
        }

        CompactionPlan? plan = _slots.CompactIfNeeded();
        if (plan is null)
        {
            return null;
        }

        OccupancyVersion++;
        MoveSequences(plan, involved);
        return plan;
    }

    /// <summary>
    /// Records every move first, then copies: if a copy throws, the bookkeeping already matches
    /// the allocator, and recovery re-prefills every slot holder, so half-copied KV is harmless.
    /// </summary>
    private void MoveSequences(CompactionPlan plan, List<Sequence> involved)
    {
        var moved = new List<(Sequence Sequence, SlotMove Move)>(plan.Moves.Count);
        foreach (SlotMove move in plan.Moves)
        {
            moved.Add((_bySlot[move.From]!, move));
        }

        foreach ((Sequence sequence, SlotMove move) in moved)
        {
            _bySlot[move.From] = null;
        }

        foreach ((Sequence sequence, SlotMove move) in moved)
        {
            _bySlot[move.To] = sequence;
            sequence.Slot = move.To;
            involved.Add(sequence);
        }

        foreach ((Sequence sequence, SlotMove move) in moved)
        {
            // Only the positions written so far carry data.
            _model.Copy(move.From, move.To, Math.Max(1, sequence.KvLength));
        }
    }

    private void Retire(Sequence sequence, FinishReason reason, List<LoopFinished> finished, string? error = null)
    {
        if (sequence.Slot >= 0)
        {
            OccupancyVersion++;
            _slots.Release(sequence.Slot);
            _bySlot[sequence.Slot] = null;
            sequence.Slot = -1;
        }

        if (sequence.QueueNode is not null)
        {
            _waiting.Remove(sequence.QueueNode);
            sequence.QueueNode = null;
        }

        _byId.Remove(sequence.Id);
        finished.Add(new LoopFinished(sequence.Id, reason, sequence.Prompt.Length, sequence.Generated.Count, error));
    }
}
