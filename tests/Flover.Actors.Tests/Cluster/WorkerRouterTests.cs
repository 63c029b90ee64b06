using Flover.Actors.Cluster;

namespace Flover.Actors.Tests.Cluster;

public sealed class WorkerRouterTests
{
    private static readonly WorkerFingerprint Gpt2 = new("gpt2", "h1", "f32", "f32", "cpu", 1);

    [Fact]
    public void A_new_request_goes_to_the_least_occupied_serving_worker_of_its_model()
    {
        WorkerLoad[] workers =
        [
            new("akka.tcp://flover@10.0.0.1:4053", Gpt2, Running: 6, Waiting: 0, KvSlots: 8),
            new("akka.tcp://flover@10.0.0.2:4053", Gpt2, Running: 10, Waiting: 0, KvSlots: 32),
            new("akka.tcp://flover@10.0.0.3:4053", Gpt2, Running: 0, Waiting: 0, KvSlots: 8, Serving: false),
            new("akka.tcp://flover@10.0.0.4:4053", Gpt2 with { Model = "gpt2-medium" }, Running: 0, Waiting: 0, KvSlots: 8),
        ];

        Assert.Equal("akka.tcp://flover@10.0.0.2:4053", WorkerRouter.ForNewRequest("gpt2", workers)!.Address);
        Assert.Equal("akka.tcp://flover@10.0.0.4:4053", WorkerRouter.ForNewRequest("gpt2-medium", workers)!.Address);
        Assert.Null(WorkerRouter.ForNewRequest("tiny", workers));
        Assert.Equal(["gpt2", "gpt2-medium"], WorkerRouter.Models(workers));
    }

    [Fact]
    public void Ties_go_to_fewer_waiting_then_to_the_lower_address()
    {
        WorkerLoad[] workers =
        [
            new("b", Gpt2, Running: 2, Waiting: 2, KvSlots: 8),
            new("c", Gpt2, Running: 4, Waiting: 0, KvSlots: 8),
            new("a", Gpt2, Running: 4, Waiting: 0, KvSlots: 8),
        ];

        Assert.Equal("a", WorkerRouter.ForNewRequest("gpt2", workers)!.Address);
    }

    [Fact]
    public void A_request_fails_over_only_to_another_serving_worker_with_the_same_fingerprint()
    {
        WorkerLoad[] workers =
        [
            new("lost", Gpt2, Running: 0, Waiting: 0, KvSlots: 8),
            new("f16", Gpt2 with { WeightDType = "f16" }, Running: 0, Waiting: 0, KvSlots: 8),
            new("tp2", Gpt2 with { TensorParallel = 2 }, Running: 0, Waiting: 0, KvSlots: 8),
            new("draining", Gpt2, Running: 0, Waiting: 0, KvSlots: 8, Serving: false),
            new("same-busy", Gpt2, Running: 7, Waiting: 0, KvSlots: 8),
            new("same", Gpt2, Running: 3, Waiting: 0, KvSlots: 8),
        ];

        Assert.Equal("same", WorkerRouter.ForFailover(Gpt2, "lost", workers)!.Address);
        Assert.Null(WorkerRouter.ForFailover(Gpt2, "lost", workers.Where(w => !w.Address.StartsWith("same", StringComparison.Ordinal))));
    }

    [Fact]
    public void A_worker_that_is_not_batch_invariant_neither_gives_nor_takes_failover()
    {
        WorkerFingerprint fast = Gpt2 with { BatchInvariant = false };

        Assert.True(Gpt2.CanContinueOn(Gpt2 with { }));
        Assert.False(fast.CanContinueOn(fast with { }));
        Assert.False(Gpt2.CanContinueOn(fast));
        Assert.Null(WorkerRouter.ForFailover(fast, "lost", [new WorkerLoad("other", fast, 0, 0, 8)]));
    }
}
