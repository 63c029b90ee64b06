using Flover.Gpu.Memory;
using Flover.Gpu.Models;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Inference;

/// <summary>
/// Temporal fusion as a plain class (the <c>DecodeLoopActor</c> drives it), one iteration per
/// <see cref="PlanStep"/> / <see cref="CompleteStep"/> pair. Planning retires cancelled and expired
/// requests, takes an accepted KV compaction (shuffle mode), admits waiting requests while slots
/// and the prefill token budget allow (long prompts are chunked across iterations), and lists ONE
/// fused decode step over every live sequence, each at its own slot and position. Completion
/// samples every row with the request's own counter-based sampler and retires finished requests
/// in the same iteration. No request ever waits for a batch to fill. The loop never calls the
/// model: the step it plans is executed by the model's shards. Not thread-safe: one owner calls it.
/// </summary>
/// <remarks>
/// Recovery: when a step fails (<see cref="FailStep"/>), every sequence holding a slot loses it and
/// goes back to the head of the queue keeping its history; re-admission prefills prompt + generated
/// tokens, which reproduces the KV cache bitwise (batch invariance), and its sampler continues at
/// the next token index, so no token is lost or repeated. A request implicated in
/// <see cref="DecodeLoopOptions.MaxConsecutiveFailures"/> failed steps in a row ends with Error.
/// Until it produces a token again, a request a failed step involved is a suspect, and no step
/// holds two suspects: a request whose own data makes steps fail reaches the limit alone while the
/// others beside it go on.
/// </remarks>
public sealed partial class FusedDecodeLoop : IDecodeScheduler
{
    private readonly ModelShape _model;
    private readonly DecodeLoopOptions _options;
    private readonly TimeProvider _clock;
    private readonly SlotAllocator _slots;
    private readonly LinkedList<Sequence> _waiting = new();
    private readonly Dictionary<long, Sequence> _byId = [];
    private readonly Sequence?[] _bySlot;
    private readonly List<int> _computed = [];
    private PlannedStep? _planned;

    /// <summary>Creates the loop over a model of <paramref name="model"/>'s shape (its KV slots).</summary>
    public FusedDecodeLoop(ModelShape model, DecodeLoopOptions options, TimeProvider? clock = null)
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

    /// <summary>The model's KV slots: the loop plans over all of them.</summary>
    public int ModelSlots => _slots.SlotCount;

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

    /// <summary>
    /// True while any request is waiting or running, or a slot its sequence left still holds memory
    /// (one more step hands it back, so an idle engine holds no KV): the owner keeps stepping.
    /// </summary>
    public bool HasWork => _byId.Count > 0 || _slots.HasReleases;

    /// <summary>
    /// Queues a request. Returns null when accepted, or why it was rejected (queue full, prompt
    /// empty or too long for a slot, duplicate id, invalid sampling parameters, a history that
    /// already finished the request).
    /// </summary>
    /// <remarks>
    /// A request with a history (<paramref name="continueFrom"/>, tokens it generated on an engine
    /// that was lost) is admitted exactly as a request this loop recovers after a failed step: the
    /// sampler replays the history (token counts for penalties, the draw counter, max tokens), the
    /// prefill is the prompt plus every history token but the last, and the last is the first
    /// decode row's input. Its next token is therefore numbered and drawn as the history's length,
    /// as an undisturbed run draws it (batch invariance makes the logits bitwise equal).
    /// </remarks>
    public string? Submit(long requestId, ReadOnlyMemory<int> prompt, SamplingParameters parameters, DateTimeOffset? deadline = null, ReadOnlyMemory<int> continueFrom = default)
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
            return $"the prompt has {prompt.Length} {(prompt.Length == 1 ? "token" : "tokens")}; a KV slot holds {_model.SlotCapacity} positions, so at most {_model.SlotCapacity - 1} leave room to generate";
        }

        if (_waiting.Count >= _options.MaxWaiting)
        {
            return $"the waiting queue is full ({_options.MaxWaiting} requests; flover.engine.max-waiting)";
        }

        if (!continueFrom.IsEmpty && prompt.Length + continueFrom.Length - 1 >= _model.SlotCapacity)
        {
            // An undisturbed run retires once its last token's position reaches the slot's end.
            return $"the prompt ({prompt.Length} tokens) and the history ({continueFrom.Length} tokens) already fill a KV slot of {_model.SlotCapacity} positions: the request has finished";
        }

        RequestSampler sampler;
        try
        {
            sampler = new RequestSampler(parameters, _options.SampledVocabularyOf(_model.VocabularySize), _options.EosTokenIds, prompt.Span);
            foreach (int token in continueFrom.Span)
            {
                if (sampler.Finish is FinishReason finished)
                {
                    return $"the history already finished the request ({finished}) before its last token";
                }

                sampler.Replay(token);
            }
        }
        catch (Exception exception) when (exception is Gpu.FloverException or ArgumentException)
        {
            return exception.Message;
        }

        if (sampler.Finish is FinishReason done)
        {
            return $"the history already finished the request ({done}): there is nothing to continue";
        }

        var sequence = new Sequence(requestId, prompt.ToArray(), sampler, deadline);
        if (!continueFrom.IsEmpty)
        {
            sequence.Generated.AddRange(continueFrom.Span);
            sequence.PrefillTokens = sequence.History();
        }

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

    /// <summary>Phase one: retirements, the accepted compaction, admissions and the decode rows.</summary>
    public ModelStep PlanStep()
    {
        if (_planned is not null)
        {
            throw new InvalidOperationException("The previous step has not been completed (CompleteStep or FailStep).");
        }

        var step = new PlannedStep();
        RetireMarked(step.Finished);
        step.Compaction = TakeCompaction(step);
        PlanAdmissions(step);
        PlanDecode(step);
        _planned = step;
        // Taken last, so a slot vacated and admitted to again in this plan is not released.
        return new ModelStep(step.Copies, step.Prompts, [.. step.Rows]) { Released = _slots.TakeReleased() };
    }

    /// <summary>Phase two: samples the prefill's last rows and every decode row, and retires finished requests.</summary>
    public IterationReport CompleteStep(ModelStepResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        PlannedStep step = TakePlanned();
        var tokens = new List<LoopToken>();
        int prefilled = CompleteAdmissions(step, result.Prefill, tokens);
        int live = CompleteDecode(step, result.Decode, tokens);
        // Cancellations that arrived during the step leave in this iteration, also those of
        // requests the step did not touch (still waiting): nothing waits for another step.
        RetireMarked(step.Finished);
        return new IterationReport(tokens, step.Finished, step.Compaction, step.Rows.Count, live, prefilled, Failed: false);
    }

    /// <summary>Phase two of a step the model could not run: every slot holder is re-queued with its history.</summary>
    public IterationReport FailStep(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        PlannedStep step = TakePlanned();
        Recover(step.Involved, reason, step.Finished);
        RetireMarked(step.Finished);
        return new IterationReport([], step.Finished, step.Compaction, step.Rows.Count, 0, 0, Failed: true);
    }

    private PlannedStep TakePlanned()
    {
        PlannedStep step = _planned ?? throw new InvalidOperationException("No step is planned: call PlanStep first.");
        _planned = null;
        return step;
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
