using Flover.Gpu.Models;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Inference.Baselines;

/// <summary>
/// A fixed group of requests run on one model from prefill to the end of the longest, the unit of
/// request-level scheduling: member i holds slot i; nobody joins once it has started. With
/// <c>keepFinishedRows</c> (FasterTransformer's dynamic batching) a finished member's row keeps
/// being computed, its results discarded, until the whole batch is done: that waste is what the
/// baseline is about. Each step fills its own token and finish lists, so batches on different
/// model instances can step on different threads at once.
/// </summary>
internal sealed class StaticBatch
{
    private readonly int _slotCapacity;
    private readonly BaselineRequest[] _members;
    private readonly bool _keepFinishedRows;
    private readonly List<BaselineRequest?> _rowOwners = [];
    private readonly bool _sampleOnDevice;
    private bool _prefilled;
    private bool _planned;
    private bool _planIsPrefill;

    public StaticBatch(ModelShape model, IReadOnlyList<BaselineRequest> members, bool keepFinishedRows, bool sampleOnDevice = true)
    {
        _sampleOnDevice = sampleOnDevice;
        if (members.Count > model.SlotCount)
        {
            throw new ArgumentException($"A batch of {members.Count} does not fit {model.SlotCount} KV slots.", nameof(members));
        }

        _slotCapacity = model.SlotCapacity;
        _members = [.. members];
        _keepFinishedRows = keepFinishedRows;
        for (int i = 0; i < _members.Length; i++)
        {
            _members[i].Slot = i;
        }
    }

    public IReadOnlyList<BaselineRequest> Members => _members;

    public bool Done => _members.All(m => m.Finished is not null);

    /// <summary>Members still running.</summary>
    public int LiveCount => _members.Count(m => m.Finished is null);

    public List<LoopToken> Tokens { get; } = [];

    public List<LoopFinished> Finished { get; } = [];

    public int DecodeRows { get; private set; }

    public int LiveRows { get; private set; }

    public int PrefillTokens { get; private set; }

    public bool Failed { get; private set; }

    /// <summary>Phase one of an iteration: the prefill of every member the first time, one decode row per member after.</summary>
    public ModelStep Plan(DateTimeOffset now)
    {
        if (_planned)
        {
            throw new InvalidOperationException("The batch's previous step has not been completed.");
        }

        Tokens.Clear();
        Finished.Clear();
        DecodeRows = LiveRows = PrefillTokens = 0;
        Failed = false;
        foreach (BaselineRequest member in _members)
        {
            if (member.Finished is null && member.RetireReason(now) is FinishReason reason)
            {
                End(member, reason);
            }
        }

        _planned = true;
        _planIsPrefill = !_prefilled;
        return _planIsPrefill ? PlanPrefill() : PlanDecode();
    }

    /// <summary>Phase two: samples what the model returned.</summary>
    public void Complete(ModelStepResult result)
    {
        _planned = false;
        ModelLogits? logits = _planIsPrefill ? result.Prefill : result.Decode;
        for (int i = 0; i < _rowOwners.Count; i++)
        {
            if (_rowOwners[i] is not { } member)
            {
                continue;
            }

            if (_planIsPrefill)
            {
                member.KvLength = member.Prompt.Length;
                (int first, int count) = logits!.RowsOf(i);
                Emit(member, member.Sampler.Accept(logits, first + count - 1));
            }
            else
            {
                LiveRows++;
                Emit(member, member.Sampler.Accept(logits!, i));
            }
        }
    }

    /// <summary>Phase two of a step the model could not run: no recovery in the baselines, the batch's running members end with Error.</summary>
    public void Fail(string reason)
    {
        _planned = false;
        Failed = true;
        LiveRows = 0;
        foreach (BaselineRequest member in _members.Where(m => m.Finished is null))
        {
            End(member, FinishReason.Error, $"the engine failed on this request's batch: {reason}");
        }
    }

    /// <summary>Both phases on <paramref name="runner"/>'s model, on the calling thread (an instance's own thread).</summary>
    public void Step(DateTimeOffset now, ModelStepRunner runner)
    {
        ModelStep step = Plan(now);
        if (step.IsEmpty)
        {
            Complete(ModelStepResult.Empty);
            return;
        }

        ModelStepResult result;
        try
        {
            result = runner.Run(step);
        }
        catch (Exception exception)
        {
            Fail(exception.Message);
            return;
        }

        Complete(result);
    }

    private ModelStep PlanPrefill()
    {
        _prefilled = true;
        _rowOwners.Clear();
        var prompts = new List<PrefillPrompt>();
        foreach (BaselineRequest member in _members.Where(m => m.Finished is null))
        {
            prompts.Add(new PrefillPrompt(member.Slot, member.Prompt, 0, LogitsSelection.Last, _sampleOnDevice ? member.Sampler.DeviceSampling() : null));
            _rowOwners.Add(member);
            PrefillTokens += member.Prompt.Length;
        }

        return prompts.Count == 0 ? ModelStep.Empty : new ModelStep([], prompts, []);
    }

    private ModelStep PlanDecode()
    {
        _rowOwners.Clear();
        var rows = new List<DecodeRow>();
        foreach (BaselineRequest member in _members)
        {
            bool live = member.Finished is null;
            // A finished row is computed on (its own slot, discarded) while the batch runs; one
            // that never got a token or whose slot is full has nothing to feed.
            bool carried = !live && _keepFinishedRows && member.GeneratedCount > 0 && member.KvLength < _slotCapacity;
            if (live || carried)
            {
                // As in the fused loop: a row's token is chosen where the logits are (greedy or
                // sampled), and a carried row's discarded logits stay there (a choice among one id, never read).
                rows.Add(!live ? new DecodeRow(member.Slot, member.KvLength, member.LastToken, 1)
                    : _sampleOnDevice ? member.Sampler.NextRow(member.Slot, member.KvLength, member.LastToken)
                    : new DecodeRow(member.Slot, member.KvLength, member.LastToken, member.Sampler.ArgMaxCandidates));
                _rowOwners.Add(live ? member : null);
                member.KvLength++;
            }
        }

        if (rows.Count == 0 || LiveCount == 0)
        {
            _rowOwners.Clear();
            return ModelStep.Empty;
        }

        DecodeRows = rows.Count;
        return new ModelStep([], [], [.. rows]);
    }

    private void Emit(BaselineRequest member, SampledToken token)
    {
        Tokens.Add(new LoopToken(member.Id, member.GeneratedCount, token));
        member.GeneratedCount++;
        member.LastToken = token.TokenId;
        if (token.Finish is FinishReason reason)
        {
            End(member, reason);
        }
        else if (member.KvLength >= _slotCapacity)
        {
            // The slot is full: the last token could not be attended to by another step.
            End(member, FinishReason.Length);
        }
    }

    private void End(BaselineRequest member, FinishReason reason, string? error = null)
    {
        member.Finished = reason;
        Finished.Add(new LoopFinished(member.Id, reason, member.Prompt.Length, member.GeneratedCount, error));
    }
}
