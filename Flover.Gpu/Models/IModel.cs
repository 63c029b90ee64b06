using Flover.Gpu.Sampling;

namespace Flover.Gpu.Models;

/// <summary>
/// A language model that runs many sequences at once, each in its own KV slot at its own position:
/// what the decode loop, the baselines and tensor parallelism call. One thread drives a model at a time.
/// </summary>
/// <remarks>
/// Results are batch-invariant, bitwise: a sequence's logits are the same whether it runs alone or
/// beside any other rows, in any slot, with any worker count, and prefilling tokens gives exactly the
/// logits (and KV) that decoding them one by one gives.
/// </remarks>
public interface IModel : IDisposable
{
    /// <summary>Number of token ids (the width of a logits row).</summary>
    int VocabularySize { get; }

    /// <summary>KV slots in the pool: sequences that can be in flight at once.</summary>
    int SlotCount { get; }

    /// <summary>Positions one slot holds: a sequence's prompt plus generated tokens must fit.</summary>
    int SlotCapacity { get; }

    /// <summary>Bytes of KV cache one slot holds (what moving a sequence copies at most).</summary>
    long KvBytesPerSlot { get; }

    /// <summary>
    /// Runs prompts (or chunks of prompts) through the model, filling their slots' KV at
    /// <see cref="PrefillPrompt.StartPosition"/> onwards. Logits rows come back prompt by prompt, in order.
    /// </summary>
    /// <returns>Logits valid until the next call on this model.</returns>
    /// <exception cref="ArgumentException">A slot, position or token is out of range, a prompt is empty, or two prompts share a slot.</exception>
    ModelLogits Prefill(IReadOnlyList<PrefillPrompt> prompts);

    /// <summary>Runs one token per row, each row at its own slot and position; returns one logits row per input row.</summary>
    /// <returns>Logits valid until the next call on this model.</returns>
    /// <exception cref="ArgumentException">A slot, position or token is out of range, or two rows share a slot.</exception>
    ModelLogits Decode(ReadOnlySpan<DecodeRow> rows);

    /// <summary>Copies the first <paramref name="length"/> positions of a slot's KV into another slot (a compaction move).</summary>
    void Copy(int fromSlot, int toSlot, int length);

    /// <summary>
    /// The sequence in <paramref name="slot"/> has left: the model may hand the slot's KV memory back
    /// to the system (the CPU pool does; a GPU's is reserved whole). The slot's contents are undefined
    /// afterwards, as a free slot's always were: the next sequence writes before it reads.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The slot is out of range.</exception>
    void Release(int slot);
}

/// <summary>One decode row: feed <paramref name="Token"/> at <paramref name="Position"/> of <paramref name="Slot"/>.</summary>
/// <param name="Slot">The sequence's KV slot.</param>
/// <param name="Position">The token's position; positions before it must already be in the slot.</param>
/// <param name="Token">The token id.</param>
/// <param name="ChooseAmong">
/// 0 (the default): bring the row's logits back. n &gt; 0: choose the next token among the first n ids where
/// the logits are and bring back only that choice (<see cref="ModelLogits.ChosenOnDevice"/>): greedily
/// (<see cref="Accelerators.Accelerator.ArgMaxRows"/>) without <paramref name="Sampling"/>, for a request whose
/// choice is the plain arg-max (<see cref="Sampling.RequestSampler.ArgMaxCandidates"/>), else as
/// <paramref name="Sampling"/> says (<see cref="Accelerators.Accelerator.SampleRows"/>).
/// </param>
/// <param name="Sampling">The request's sampling of this row's next token (<see cref="Sampling.RequestSampler.NextRow"/>), or null.</param>
public readonly record struct DecodeRow(int Slot, int Position, int Token, int ChooseAmong = 0, RowSampling? Sampling = null);

/// <summary>One prompt, or one chunk of a prompt, to prefill.</summary>
/// <param name="Slot">The sequence's KV slot.</param>
/// <param name="Tokens">The tokens, at positions <paramref name="StartPosition"/>, <paramref name="StartPosition"/> + 1, ...</param>
/// <param name="StartPosition">0 for a new prompt; the number of positions already filled for a continuing chunk.</param>
/// <param name="Logits">Which rows' logits to return.</param>
/// <param name="Sampling">
/// With <see cref="LogitsSelection.Last"/>: sample the token after the prompt where the logits are and bring back
/// only its id (<see cref="ModelLogits.ChosenOnDevice"/>), as a decode row's <see cref="DecodeRow.Sampling"/>; null
/// (the default) brings the last row's logits back.
/// </param>
public sealed record PrefillPrompt(int Slot, ReadOnlyMemory<int> Tokens, int StartPosition = 0, LogitsSelection Logits = LogitsSelection.Last, RowSampling? Sampling = null);

/// <summary>Which logits a prefill returns for a prompt.</summary>
public enum LogitsSelection
{
    /// <summary>Only the last token's (what sampling the next token needs).</summary>
    Last,

    /// <summary>Every token's (scoring, evaluation).</summary>
    All,

    /// <summary>None (a chunk in the middle of a long prompt).</summary>
    None,
}
