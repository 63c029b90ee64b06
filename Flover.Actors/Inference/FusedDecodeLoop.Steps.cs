using Flover.Gpu.Models;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Inference;

public sealed partial class FusedDecodeLoop
{
    private long _iteration;

    /// <summary>Admits waiting requests, FIFO, while slots and the prefill budget allow; returns the tokens prefilled.</summary>
    private int Admit(List<LoopToken> tokens, List<LoopFinished> finished, List<Sequence> involved)
    {
        _iteration++;
        int budget = _options.PrefillTokenBudget;
        var prompts = new List<PrefillPrompt>();
        var chunks = new List<(Sequence Sequence, int Chunk, bool Completes, bool NeedsLogits)>();
        for (LinkedListNode<Sequence>? node = _waiting.First; node is not null && budget > 0; node = node.Next)
        {
            Sequence sequence = node.Value;
            if (sequence.Slot < 0)
            {
                if (!_slots.TryAllocate(out int slot))
                {
                    break;
                }

                sequence.Slot = slot;
                OccupancyVersion++;
                sequence.KvLength = 0;
                _bySlot[slot] = sequence;
            }

            int[] history = sequence.PrefillTokens;
            int remaining = history.Length - sequence.KvLength;
            int chunk = Math.Min(remaining, budget);
            bool completes = chunk == remaining;
            // A fresh request samples its first token from the prefill; a recovered one already has it.
            bool needsLogits = completes && sequence.Generated.Count == 0;
            prompts.Add(new PrefillPrompt(sequence.Slot, history.AsMemory(sequence.KvLength, chunk), sequence.KvLength, needsLogits ? LogitsSelection.Last : LogitsSelection.None));
            chunks.Add((sequence, chunk, completes, needsLogits));
            involved.Add(sequence);
            budget -= chunk;
            if (!completes)
            {
                // The head keeps its progress and goes on next iteration: FIFO, no overtaking.
                break;
            }
        }

        if (prompts.Count == 0)
        {
            return 0;
        }

        ModelLogits logits = _model.Prefill(prompts);
        int prefilled = 0;
        for (int i = 0; i < chunks.Count; i++)
        {
            (Sequence sequence, int chunk, bool completes, bool needsLogits) = chunks[i];
            sequence.KvLength += chunk;
            prefilled += chunk;
            if (!completes)
            {
                continue;
            }

            _waiting.Remove(sequence.QueueNode!);
            sequence.QueueNode = null;
            sequence.Decoding = true;
            sequence.AdmittedAt = _iteration;
            if (needsLogits)
            {
                (int first, int count) = logits.RowsOf(i);
                Emit(sequence, sequence.Sampler.Sample(logits.Row(first + count - 1)), tokens, finished);
            }
            else
            {
                sequence.LastToken = sequence.Generated[^1];
            }
        }

        return prefilled;
    }

    /// <summary>The fused decode step over every live sequence (and the window's dead rows in holes mode).</summary>
    private (int Rows, int Live) DecodeLive(List<LoopToken> tokens, List<LoopFinished> finished, List<Sequence> involved)
    {
        _rows.Clear();
        _rowOwners.Clear();
        _slots.GetComputedSlots(_computed);
        foreach (int slot in _computed)
        {
            Sequence? sequence = _bySlot[slot];
            if (sequence is null)
            {
                // A hole inside the window (holes mode): computed and discarded, writing only its own free slot.
                _rows.Add(new DecodeRow(slot, 0, 0));
                _rowOwners.Add(null);
            }
            else if (sequence.Decoding && sequence.AdmittedAt != _iteration)
            {
                _rows.Add(new DecodeRow(slot, sequence.KvLength, sequence.LastToken));
                _rowOwners.Add(sequence);
                involved.Add(sequence);
            }
        }

        if (_rows.Count == 0)
        {
            return (0, 0);
        }

        ModelLogits logits = _model.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_rows));
        int live = 0;
        for (int i = 0; i < _rowOwners.Count; i++)
        {
            if (_rowOwners[i] is not { } sequence)
            {
                continue;
            }

            live++;
            SampledToken token = sequence.Sampler.Sample(logits.Row(i));
            sequence.KvLength++;
            Emit(sequence, token, tokens, finished);
        }

        return (_rows.Count, live);
    }

    private void Emit(Sequence sequence, SampledToken token, List<LoopToken> tokens, List<LoopFinished> finished)
    {
        // Progress ends a failure streak; a successful re-prefill alone does not (a step that
        // keeps failing right after recovery must still reach the limit).
        sequence.ConsecutiveFailures = 0;
        tokens.Add(new LoopToken(sequence.Id, sequence.Generated.Count, token));
        sequence.Generated.Add(token.TokenId);
        sequence.LastToken = token.TokenId;
        if (token.Finish is FinishReason reason)
        {
            Retire(sequence, reason, finished);
        }
        else if (sequence.KvLength >= _model.SlotCapacity)
        {
            // The slot is full: the last token could not be attended to by another step.
            Retire(sequence, FinishReason.Length, finished);
        }
    }

    /// <summary>
    /// A model call threw: every sequence holding a slot is re-queued at the head with its
    /// history (its KV may be garbage); those the step involved count a failure, and after
    /// too many in a row end with Error.
    /// </summary>
    private void Recover(List<Sequence> involved, Exception exception, List<LoopFinished> finished)
    {
        var implicated = new HashSet<Sequence>(involved);
        List<Sequence> holding = [.. _byId.Values.Where(s => s.Slot >= 0).OrderBy(s => s.Id)];
        for (int i = holding.Count - 1; i >= 0; i--)
        {
            Sequence sequence = holding[i];
            if (implicated.Contains(sequence) && ++sequence.ConsecutiveFailures >= _options.MaxConsecutiveFailures)
            {
                Retire(sequence, FinishReason.Error, finished, $"the engine failed {sequence.ConsecutiveFailures} times in a row on this request: {exception.Message}");
                continue;
            }

            _slots.Release(sequence.Slot);
            OccupancyVersion++;
            _bySlot[sequence.Slot] = null;
            sequence.Slot = -1;
            sequence.KvLength = 0;
            sequence.Decoding = false;
            sequence.PrefillTokens = sequence.History();
            if (sequence.QueueNode is not null)
            {
                _waiting.Remove(sequence.QueueNode);
            }

            sequence.QueueNode = _waiting.AddFirst(sequence);
        }
    }

    /// <summary>One request's state in the loop.</summary>
    private sealed class Sequence(long id, int[] prompt, RequestSampler sampler, DateTimeOffset? deadline)
    {
        public long Id { get; } = id;

        public int[] Prompt { get; } = prompt;

        public RequestSampler Sampler { get; } = sampler;

        public DateTimeOffset? Deadline { get; } = deadline;

        public List<int> Generated { get; } = [];

        /// <summary>What admission prefills: the prompt, or after a failure prompt + all generated tokens but the last.</summary>
        public int[] PrefillTokens { get; set; } = prompt;

        public int Slot { get; set; } = -1;

        /// <summary>Positions written in the KV slot; also the position of the next decode row.</summary>
        public int KvLength { get; set; }

        public bool Decoding { get; set; }

        public long AdmittedAt { get; set; } = -1;

        public int LastToken { get; set; }

        public FinishReason? PendingRetire { get; set; }

        public int ConsecutiveFailures { get; set; }

        public LinkedListNode<Sequence>? QueueNode { get; set; }

        public int[] History() => Generated.Count == 0 ? Prompt : [.. Prompt, .. Generated.Take(Generated.Count - 1)];
    }
}
