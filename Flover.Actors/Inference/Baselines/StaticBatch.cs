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
    private readonly IModel _model;
    private readonly BaselineRequest[] _members;
    private readonly bool _keepFinishedRows;
    private readonly List<DecodeRow> _rows = [];
    private readonly List<BaselineRequest?> _rowOwners = [];
    private bool _prefilled;

    public StaticBatch(IModel model, IReadOnlyList<BaselineRequest> members, bool keepFinishedRows)
    {
        if (members.Count > model.SlotCount)
        {
            throw new ArgumentException($"A batch of {members.Count} does not fit {model.SlotCount} KV slots.", nameof(members));
        }

        _model = model;
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

    /// <summary>One iteration: the prefill of every member the first time, one decode row per member after.</summary>
    public void Step(DateTimeOffset now)
    {
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

        try
        {
            if (!_prefilled)
            {
                Prefill();
            }
            else
            {
                Decode();
            }
        }
        catch (Exception exception)
        {
            // No recovery in the baselines: the batch's running members end with Error.
            Failed = true;
            foreach (BaselineRequest member in _members.Where(m => m.Finished is null))
            {
                End(member, FinishReason.Error, $"the engine failed on this request's batch: {exception.Message}");
            }
        }
    }

    private void Prefill()
    {
        _prefilled = true;
        var prompts = new List<PrefillPrompt>();
        var owners = new List<BaselineRequest>();
        foreach (BaselineRequest member in _members.Where(m => m.Finished is null))
        {
            prompts.Add(new PrefillPrompt(member.Slot, member.Prompt, 0, LogitsSelection.Last));
            owners.Add(member);
            PrefillTokens += member.Prompt.Length;
        }

        if (prompts.Count == 0)
        {
            return;
        }

        ModelLogits logits = _model.Prefill(prompts);
        for (int i = 0; i < owners.Count; i++)
        {
            owners[i].KvLength = owners[i].Prompt.Length;
            (int first, int count) = logits.RowsOf(i);
            Emit(owners[i], owners[i].Sampler.Sample(logits.Row(first + count - 1)));
        }
    }

    private void Decode()
    {
        _rows.Clear();
        _rowOwners.Clear();
        foreach (BaselineRequest member in _members)
        {
            bool live = member.Finished is null;
            // A finished row is computed on (its own slot, discarded) while the batch runs; one
            // that never got a token or whose slot is full has nothing to feed.
            bool carried = !live && _keepFinishedRows && member.GeneratedCount > 0 && member.KvLength < _model.SlotCapacity;
            if (live || carried)
            {
                _rows.Add(new DecodeRow(member.Slot, member.KvLength, member.LastToken));
                _rowOwners.Add(live ? member : null);
                member.KvLength++;
            }
        }

        if (_rows.Count == 0 || LiveCount == 0)
        {
            return;
        }

        ModelLogits logits = _model.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_rows));
        DecodeRows = _rows.Count;
        for (int i = 0; i < _rowOwners.Count; i++)
        {
            if (_rowOwners[i] is { } member)
            {
                LiveRows++;
                Emit(member, member.Sampler.Sample(logits.Row(i)));
            }
        }
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
        else if (member.KvLength >= _model.SlotCapacity)
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
