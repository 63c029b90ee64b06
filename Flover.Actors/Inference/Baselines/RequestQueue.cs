using Flover.Gpu.Models;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Inference.Baselines;

/// <summary>
/// The FIFO of requests a baseline scheduler has accepted but not started, with the same
/// validation and the same rejections as the fused loop, and the index of every request in it
/// or running (for cancellation).
/// </summary>
internal sealed class RequestQueue(int vocabularySize, int slotCapacity, DecodeLoopOptions options, TimeProvider clock)
{
    private readonly LinkedList<BaselineRequest> _waiting = new();
    private readonly Dictionary<long, BaselineRequest> _byId = [];

    public int WaitingCount => _waiting.Count;

    /// <summary>Requests waiting or running.</summary>
    public int Count => _byId.Count;

    public BaselineRequest? Oldest => _waiting.First?.Value;

    public TimeProvider Clock => clock;

    public string? Submit(long requestId, ReadOnlyMemory<int> prompt, SamplingParameters parameters, DateTimeOffset? deadline, ReadOnlyMemory<int> continueFrom = default)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!continueFrom.IsEmpty)
        {
            // The baselines exist to be measured against the fused loop, not to serve a cluster:
            // only the fused loop re-admits a request from its history.
            return "this scheduler cannot continue a request from its history (continue_from); flover.scheduler.kind = fused can";
        }

        if (_byId.ContainsKey(requestId))
        {
            return $"request {requestId} is already in the scheduler";
        }

        if (prompt.IsEmpty)
        {
            return "the prompt is empty: give at least one token";
        }

        if (prompt.Length >= slotCapacity)
        {
            return $"the prompt has {prompt.Length} {(prompt.Length == 1 ? "token" : "tokens")}; a KV slot holds {slotCapacity} positions, so at most {slotCapacity - 1} leave room to generate";
        }

        if (_waiting.Count >= options.MaxWaiting)
        {
            return $"the waiting queue is full ({options.MaxWaiting} requests; flover.engine.max-waiting)";
        }

        RequestSampler sampler;
        try
        {
            sampler = new RequestSampler(parameters, vocabularySize, options.EosTokenIds, prompt.Span);
        }
        catch (Exception exception) when (exception is Gpu.FloverException or ArgumentException)
        {
            return exception.Message;
        }

        var request = new BaselineRequest(requestId, prompt.ToArray(), sampler, deadline, clock.GetUtcNow());
        _byId.Add(requestId, request);
        request.QueueNode = _waiting.AddLast(request);
        return null;
    }

    public void MarkRetire(long requestId, FinishReason reason)
    {
        if (_byId.TryGetValue(requestId, out BaselineRequest? request) && request.PendingRetire is null && request.Finished is null)
        {
            request.PendingRetire = reason;
        }
    }

    /// <summary>Removes waiting requests that were cancelled or are past their deadline.</summary>
    public void RetireWaiting(List<LoopFinished> finished, DateTimeOffset now)
    {
        for (LinkedListNode<BaselineRequest>? node = _waiting.First; node is not null;)
        {
            LinkedListNode<BaselineRequest>? next = node.Next;
            if (node.Value.RetireReason(now) is FinishReason reason)
            {
                _waiting.Remove(node);
                node.Value.QueueNode = null;
                node.Value.Finished = reason;
                _byId.Remove(node.Value.Id);
                finished.Add(new LoopFinished(node.Value.Id, reason, node.Value.Prompt.Length, 0));
            }

            node = next;
        }
    }

    public BaselineRequest Dequeue()
    {
        BaselineRequest request = _waiting.First!.Value;
        _waiting.RemoveFirst();
        request.QueueNode = null;
        return request;
    }

    /// <summary>Forgets requests that have finished (their ids may be used again).</summary>
    public void Forget(IEnumerable<LoopFinished> finished)
    {
        foreach (LoopFinished done in finished)
        {
            _byId.Remove(done.RequestId);
        }
    }

    public static RequestQueue For(ModelShape model, DecodeLoopOptions options, TimeProvider? clock)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxWaiting);
        return new RequestQueue(options.SampledVocabularyOf(model.VocabularySize), model.SlotCapacity, options, clock ?? TimeProvider.System);
    }
}
