using Flover.Gpu.Memory;
using Flover.Gpu.Models;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Inference;

public sealed partial class FusedDecodeLoop
{
    /// <summary>Admits waiting requests, FIFO, while slots and the prefill budget allow: their prompts (or chunks) go into the step.</summary>
    private void PlanAdmissions(PlannedStep step)
    {
        int budget = _options.PrefillTokenBudget;
        bool suspectPlanned = _byId.Values.Any(s => s.Decoding && s.ConsecutiveFailures > 0);
        for (LinkedListNode<Sequence>? node = _waiting.First; node is not null && budget > 0; node = node.Next)
        {
            Sequence sequence = node.Value;
            if (sequence.ConsecutiveFailures > 0)
            {
                // At most one suspect (a request a failed step involved, until it makes progress)
                // per step: one whose own data fails the step (a prompt that drives a kernel out of
                // bounds) then fails alone and reaches the limit, while every other one, run without
                // it, produces a token and clears its count. A transient fault only slows recovery
                // (the suspects come back one by one); FIFO holds, nobody overtakes.
                if (suspectPlanned)
                {
                    break;
                }

                suspectPlanned = true;
            }

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
            // Its first token is sampled where the logits are, like every later one: only the id comes back.
            step.Prompts.Add(new PrefillPrompt(sequence.Slot, history.AsMemory(sequence.KvLength, chunk), sequence.KvLength, needsLogits ? LogitsSelection.Last : LogitsSelection.None, needsLogits && _options.SampleOnDevice ? sequence.Sampler.DeviceSampling() : null));
            step.Chunks.Add(new PrefillChunk(sequence, chunk, completes, needsLogits));
            step.Involved.Add(sequence);
            budget -= chunk;
            if (!completes)
            {
                // The head keeps its progress and goes on next iteration: FIFO, no overtaking.
                break;
            }
        }
    }

    /// <summary>
    /// The fused decode rows: every sequence already decoding (one admitted in this step decodes from
    /// the next), and in the holes and shuffle modes the window's free slots as dead rows.
    /// </summary>
    private void PlanDecode(PlannedStep step)
    {
        _slots.GetComputedSlots(_computed);
        foreach (int slot in _computed)
        {
            Sequence? sequence = _bySlot[slot];
            if (sequence is null)
            {
                // A hole inside the window: computed and discarded, writing only its own free slot. Its
                // "choice" is made where its logits are, so they never travel to the host.
                step.Rows.Add(new DecodeRow(slot, 0, 0, _options.SampledVocabularyOf(_model.VocabularySize)));
                step.RowOwners.Add(null);
            }
            else if (sequence.Decoding)
            {
                // A request's token is chosen where the logits are (greedy or sampled): only its id
                // comes back. Only a request asking for logprobs still brings its row to the host.
                step.Rows.Add(_options.SampleOnDevice
                    ? sequence.Sampler.NextRow(slot, sequence.KvLength, sequence.LastToken)
                    : new DecodeRow(slot, sequence.KvLength, sequence.LastToken, sequence.Sampler.ArgMaxCandidates));
                step.RowOwners.Add(sequence);
                step.Involved.Add(sequence);
            }
        }
    }

    /// <summary>Records each prefilled chunk and samples the first token of every request whose prompt completed; returns the tokens prefilled.</summary>
    private int CompleteAdmissions(PlannedStep step, ModelLogits? logits, List<LoopToken> tokens)
    {
        int prefilled = 0;
        for (int i = 0; i < step.Chunks.Count; i++)
        {
            (Sequence sequence, int chunk, bool completes, bool needsLogits) = step.Chunks[i];
            sequence.KvLength += chunk;
            prefilled += chunk;
            if (!completes)
            {
                continue;
            }

            _waiting.Remove(sequence.QueueNode!);
            sequence.QueueNode = null;
            sequence.Decoding = true;
            if (!needsLogits)
            {
                sequence.LastToken = sequence.Generated[^1];
            }
            else if (!RetiredMeanwhile(sequence, step.Finished))
            {
                (int first, int count) = logits!.RowsOf(i);
                Emit(sequence, sequence.Sampler.Accept(logits, first + count - 1), tokens, step.Finished);
            }
        }

        return prefilled;
    }

    /// <summary>Samples every live decode row; returns how many rows were live.</summary>
    private int CompleteDecode(PlannedStep step, ModelLogits? logits, List<LoopToken> tokens)
    {
        int live = 0;
        for (int i = 0; i < step.RowOwners.Count; i++)
        {
            if (step.RowOwners[i] is not { } sequence)
            {
                continue;
            }

            live++;
            sequence.KvLength++;
            if (!RetiredMeanwhile(sequence, step.Finished))
            {
                SampledToken token = sequence.Sampler.Accept(logits!, i);
                Emit(sequence, token, tokens, step.Finished);
            }
        }

        return live;
    }

    /// <summary>
    /// A cancellation or stop sequence that arrived while the step was computed: the request leaves
    /// now, and the token the step computed for it is not delivered.
    /// </summary>
    private bool RetiredMeanwhile(Sequence sequence, List<LoopFinished> finished)
    {
        if (sequence.PendingRetire is not FinishReason reason)
        {
            return false;
        }

        Retire(sequence, reason, finished);
        return true;
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
    /// A step failed: every sequence holding a slot is re-queued at the head with its history (its
    /// KV may be garbage); those the step involved count a failure, and after too many in a row
    /// end with Error.
    /// </summary>
    private void Recover(List<Sequence> involved, string reason, List<LoopFinished> finished)
    {
        var implicated = new HashSet<Sequence>(involved);
        List<Sequence> holding = [.. _byId.Values.Where(s => s.Slot >= 0).OrderBy(s => s.Id)];
        for (int i = holding.Count - 1; i >= 0; i--)
        {
            Sequence sequence = holding[i];
            if (implicated.Contains(sequence) && ++sequence.ConsecutiveFailures >= _options.MaxConsecutiveFailures)
            {
                Retire(sequence, FinishReason.Error, finished, $"the engine failed {sequence.ConsecutiveFailures} times in a row on this request: {reason}");
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

    /// <summary>A planned iteration, between <see cref="PlanStep"/> and its completion.</summary>
    private sealed class PlannedStep
    {
        public List<LoopFinished> Finished { get; } = [];

        public List<KvCopy> Copies { get; } = [];

        public CompactionPlan? Compaction { get; set; }

        public List<PrefillPrompt> Prompts { get; } = [];

        public List<PrefillChunk> Chunks { get; } = [];

        public List<DecodeRow> Rows { get; } = [];

        public List<Sequence?> RowOwners { get; } = [];

        /// <summary>Sequences the step's model work touches (moved, prefilled, decoded): a failure counts against them.</summary>
        public List<Sequence> Involved { get; } = [];
    }

    /// <summary>One prompt chunk of a step: whose, how long, whether it completes the prompt and whether its last row is sampled.</summary>
    private readonly record struct PrefillChunk(Sequence Sequence, int Chunk, bool Completes, bool NeedsLogits);

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

        public int LastToken { get; set; }

        public FinishReason? PendingRetire { get; set; }

        public int ConsecutiveFailures { get; set; }

        public LinkedListNode<Sequence>? QueueNode { get; set; }

        public int[] History() => Generated.Count == 0 ? Prompt : [.. Prompt, .. Generated.Take(Generated.Count - 1)];
    }
}
