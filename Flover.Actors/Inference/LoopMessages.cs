using Akka.Actor;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Inference;

/// <summary>RequestActor → DecodeLoopActor: admit this request (token ids only), continuing after <paramref name="ContinueFrom"/> when it is not empty.</summary>
internal sealed record RegisterRequest(long RequestId, IReadOnlyList<int> Prompt, SamplingParameters Sampling, DateTimeOffset? Deadline, IActorRef Requester, IReadOnlyList<int>? ContinueFrom = null) : INoSerializationVerificationNeeded;

/// <summary>RequestActor → DecodeLoopActor: the client went away or cancelled.</summary>
internal sealed record CancelRequest(long RequestId) : INoSerializationVerificationNeeded;

/// <summary>RequestActor → DecodeLoopActor: a stop sequence was found; retire at the next iteration.</summary>
internal sealed record StopSequenceFound(long RequestId) : INoSerializationVerificationNeeded;

// DecodeLoopActor → RequestActor: the scheduler's own records, sent as they come out of an
// iteration (IterationReport): LoopToken for a sampled token, LoopFinished when the request left
// the loop. One name per event, from the scheduler to the request's actor.

/// <summary>DecodeLoopActor → RequestActor: the request was not admitted.</summary>
internal sealed record LoopRejected(long RequestId, string Reason, RejectionCode Code) : INoSerializationVerificationNeeded;

/// <summary>The decode loop's message to itself: run one iteration.</summary>
internal sealed record Step : INoSerializationVerificationNeeded
{
    public static Step Instance { get; } = new();
}
