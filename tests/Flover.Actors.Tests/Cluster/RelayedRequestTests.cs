using Flover.Actors.Cluster;
using Flover.Actors.Inference;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Tests.Cluster;

/// <summary>The frontend's per-request decisions without actors: exactly-once relaying across attempts, when to fail over, what the client gets at the end.</summary>
public sealed class RelayedRequestTests
{
    private static readonly WorkerFingerprint Tiny = new("tiny", "preset:tiny", "f32", "f32", "cpu", 1);
    private static readonly WorkerLoad A = new("a", Tiny, 0, 0, 4);
    private static readonly WorkerLoad B = new("b", Tiny, 0, 0, 4);

    private static RelayedRequest Request(int maxFailovers = 3) =>
        new(new Generate([1, 2, 3], new SamplingParameters { MaxTokens = 8 }) { CorrelationId = "r" }, "tiny", maxFailovers);

    [Fact]
    public void Each_attempt_carries_the_history_and_its_own_id_and_tokens_are_relayed_once_in_order_with_the_client_s_id()
    {
        RelayedRequest request = Request();
        Assert.Equal(new RouteNeed("tiny", null, null), request.Need);

        Generate first = request.Start(A);
        Assert.Equal(("r@1", 0), (first.CorrelationId, first.ContinueFrom.Count));
        Assert.Equal(RelayAction.Relay, request.OnToken(new Token(0, 10, "x") { CorrelationId = "r@1" }).Action);
        Assert.Equal(RelayAction.Ignore, request.OnToken(new Token(0, 10, "x") { CorrelationId = "r@1" }).Action);
        RelayOutcome second = request.OnToken(new Token(1, 11, "y") { CorrelationId = "r@1" });
        Assert.Equal("r", ((Token)second.Message!).CorrelationId);

        Assert.Equal(RelayAction.FailOver, request.OnWorkerLost("a").Action);
        Assert.Equal(new RouteNeed("tiny", Tiny, "a"), request.Need);
        // The lost worker may still be alive: its late tokens carry the old attempt's id.
        Assert.Equal(RelayAction.Ignore, request.OnToken(new Token(2, 12, "z") { CorrelationId = "r@1" }).Action);

        Generate resumed = request.Start(B);
        Assert.Equal("r@2", resumed.CorrelationId);
        Assert.Equal([10, 11], resumed.ContinueFrom);
        Assert.Equal(RelayAction.Ignore, request.OnToken(new Token(3, 13, "w") { CorrelationId = "r@2" }).Action);
        Assert.Equal(RelayAction.Relay, request.OnToken(new Token(2, 12, "z") { CorrelationId = "r@2" }).Action);
        RelayOutcome end = request.OnCompleted(new Completed(FinishReason.Length, new Usage(3, 3)) { CorrelationId = "r@2" });
        Assert.Equal(new Completed(FinishReason.Length, new Usage(3, 3)) { CorrelationId = "r" }, end.Message);
        Assert.Equal([10, 11, 12], request.History);
    }

    [Fact]
    public void A_worker_s_error_or_refusal_fails_over_while_attempts_remain_then_ends_the_request()
    {
        RelayedRequest request = Request(maxFailovers: 1);
        request.Start(A);
        Assert.Equal(RelayAction.FailOver, request.OnRejected(new Rejected("draining", RejectionCode.Draining) { CorrelationId = "r@1" }).Action);
        Assert.Equal("a", request.RefusedBy);
        Assert.Equal(RelayAction.Ignore, request.OnWorkerLost("a").Action);

        request.Start(B);
        RelayOutcome end = request.OnCompleted(new Completed(FinishReason.Error, new Usage(3, 0), Error: "the decode loop stopped") { CorrelationId = "r@2" });
        Assert.Equal((RelayAction.Relay, FinishReason.Error), (end.Action, ((Completed)end.Message!).FinishReason));
    }

    [Fact]
    public void A_new_request_s_own_rejection_is_the_client_s_but_a_continuation_s_ends_with_an_error()
    {
        RelayedRequest fresh = Request();
        fresh.Start(A);
        RelayOutcome invalid = fresh.OnRejected(new Rejected("top_p", RejectionCode.InvalidField) { CorrelationId = "r@1", Field = "top_p" });
        Assert.Equal(("r", "top_p"), (((Rejected)invalid.Message!).CorrelationId, ((Rejected)invalid.Message!).Field));

        RelayedRequest continued = Request(maxFailovers: 1);
        continued.Start(A);
        continued.OnToken(new Token(0, 10, "x") { CorrelationId = "r@1" });
        continued.OnWorkerLost("a");
        continued.Start(B);
        RelayOutcome full = continued.OnRejected(new Rejected("queue full", RejectionCode.QueueFull) { CorrelationId = "r@2" });
        Assert.Equal(new Usage(3, 1), ((Completed)full.Message!).Usage);
        Assert.Contains("queue full", ((Completed)full.Message!).Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Giving_up_rejects_a_request_without_tokens_and_ends_one_with_tokens_with_an_error()
    {
        RelayedRequest request = Request();
        Assert.Equal(RejectionCode.EngineUnavailable, Assert.IsType<Rejected>(request.GiveUp("none")).Code);

        request.Start(A);
        request.OnToken(new Token(0, 10, "x") { CorrelationId = "r@1" });
        Completed ended = Assert.IsType<Completed>(request.GiveUp("none left"));
        Assert.Equal((FinishReason.Error, "none left", 1), (ended.FinishReason, ended.Error, ended.Usage.CompletionTokens));
    }
}
