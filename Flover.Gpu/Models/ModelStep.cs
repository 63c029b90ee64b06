namespace Flover.Gpu.Models;

/// <summary>
/// One iteration's work on a model, planned by a scheduler and executed by whoever holds the model
/// (a shard actor, or each shard of a tensor-parallel group identically), in this order: the KV
/// copies of a compaction, then the releases of slots left free, then the prefills, then the decode
/// rows. They never touch the same slot's new positions: copies move finished history into slots
/// that stay live, released slots are free after the copies (a copy's source, a retired sequence's
/// slot), prefills fill slots admitted this iteration, and decode rows belong to sequences admitted earlier.
/// </summary>
/// <param name="Copies">KV moves of a memory shuffle, applied first.</param>
/// <param name="Prefill">Prompts (or chunks of prompts) to prefill; empty for none.</param>
/// <param name="Decode">Rows to decode, one token each; empty for none.</param>
public sealed record ModelStep(IReadOnlyList<KvCopy> Copies, IReadOnlyList<PrefillPrompt> Prefill, DecodeRow[] Decode)
{
    /// <summary>A step that computes nothing (an iteration that only retired requests).</summary>
    public static ModelStep Empty { get; } = new([], [], []);

    /// <summary>
    /// Slots whose sequences have left and that no sequence holds after this step's copies and
    /// admissions: the model hands their KV memory back (<see cref="IModel.Release"/>), after the copies.
    /// </summary>
    public IReadOnlyList<int> Released { get; init; } = [];

    /// <summary>True when there is nothing for the model to do.</summary>
    public bool IsEmpty => Copies.Count == 0 && Released.Count == 0 && Prefill.Count == 0 && Decode.Length == 0;

    /// <summary>Rows the model computes: prefill tokens plus decode rows (copies excluded).</summary>
    public int ComputedRows => Prefill.Sum(p => p.Tokens.Length) + Decode.Length;
}

/// <summary>Copies the first <paramref name="Length"/> positions of a slot's KV into another slot (one move of a compaction).</summary>
/// <param name="FromSlot">The slot the sequence leaves.</param>
/// <param name="ToSlot">The free slot it moves to.</param>
/// <param name="Length">Positions written so far (only they carry data).</param>
public readonly record struct KvCopy(int FromSlot, int ToSlot, int Length);

/// <summary>What a <see cref="ModelStep"/> produced: the prefill's and the decode's logits (null when the step had none).</summary>
/// <param name="Prefill">Logits of the prefill, prompt by prompt as <see cref="ModelLogits.RowsOf"/> gives them.</param>
/// <param name="Decode">One logits row per decode row.</param>
public sealed record ModelStepResult(ModelLogits? Prefill, ModelLogits? Decode)
{
    /// <summary>The result of an empty step.</summary>
    public static ModelStepResult Empty { get; } = new(null, null);
}

/// <summary>
/// Executes <see cref="ModelStep"/>s on one model. The model reuses one logits buffer for every
/// call, so when a step both prefills and decodes, the prefill's rows are copied aside (into a
/// buffer this runner keeps and reuses) before the decode overwrites them. Results are valid until
/// the next <see cref="Run"/>. One thread at a time, like the model.
/// </summary>
public sealed class ModelStepRunner
{
    private readonly IModel _model;
    private readonly ModelLogits _prefillCopy;

    /// <summary>A runner over <paramref name="model"/> (not owned).</summary>
    public ModelStepRunner(IModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _prefillCopy = new ModelLogits(model.VocabularySize);
    }

    /// <summary>The model the steps run on.</summary>
    public IModel Model => _model;

    /// <summary>Time the last <see cref="Run"/> spent on KV copies.</summary>
    public TimeSpan LastCopyTime { get; private set; }

    /// <summary>Runs <paramref name="step"/>: copies, releases, prefill, decode.</summary>
    /// <exception cref="ArgumentException">The step does not fit the model (slot, position or token out of range).</exception>
    public ModelStepResult Run(ModelStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        LastCopyTime = TimeSpan.Zero;
        if (step.Copies.Count > 0)
        {
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            foreach (KvCopy copy in step.Copies)
            {
                _model.Copy(copy.FromSlot, copy.ToSlot, copy.Length);
            }

            LastCopyTime = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        }

        foreach (int slot in step.Released)
        {
            _model.Release(slot);
        }

        ModelLogits? prefill = null;
        if (step.Prefill.Count > 0)
        {
            prefill = _model.Prefill(step.Prefill);
            if (step.Decode.Length > 0)
            {
                _prefillCopy.CopyFrom(prefill);
                prefill = _prefillCopy;
            }
        }

        ModelLogits? decode = step.Decode.Length > 0 ? _model.Decode(step.Decode) : null;
        return prefill is null && decode is null ? ModelStepResult.Empty : new ModelStepResult(prefill, decode);
    }
}
