using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Flover.Actors.Cluster;
using Flover.Actors.Inference;
using Flover.Actors.Tests.Inference.Baselines;
using Flover.Configuration;
using Flover.Gpu.Sampling;
using Flover.Gpu.Tokenization;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Cluster;

/// <summary>
/// A real cluster in this process: the test's system is the frontend (role <c>frontend</c>, a
/// <see cref="ClusterEngine"/>), worker nodes are ActorSystems of their own on loopback TCP, each a
/// tiny engine behind a <see cref="WorkerAgent"/>. Requests go to the less-loaded worker; a worker
/// whose system terminates mid-generation costs no token (its requests continue on the other with
/// exactly the undisturbed tokens, greedy and seeded); a worker with another fingerprint gets no
/// failover; with no worker, a request ends after <c>flover.cluster.worker-wait</c>.
/// </summary>
[Trait("Category", "Slow")]
public sealed class ClusterEngineSpec : TestKit, IClassFixture<SharedTinyFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Engines step at most this often, so a request of 20 tokens runs for seconds and a loss can hit it mid-way.</summary>
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(100);

    private readonly SharedTinyFixture _fixture;
    private readonly ITestOutputHelper _output;
    private readonly ClusterHarness _nodes;

    public ClusterEngineSpec(SharedTinyFixture fixture, ITestOutputHelper output)
        : base(ClusterHarness.Node(ClusterRoles.Frontend), output: output)
    {
        _fixture = fixture;
        _output = output;
        _nodes = new ClusterHarness(Sys, fixture);
        Akka.Cluster.Cluster.Get(Sys).Join(Akka.Cluster.Cluster.Get(Sys).SelfAddress);
    }

    [Fact]
    public void A_new_request_goes_to_the_less_loaded_worker()
    {
        (ActorSystem a, IActorRef aEngine) = _nodes.TinyWorker(Pace);
        (ActorSystem b, IActorRef bEngine) = _nodes.TinyWorker(Pace);
        IActorRef frontend = Frontend(TimeSpan.FromSeconds(5));
        AwaitWorkers(frontend, 2);
        // Load the worker a tie would choose (the lower address), behind the frontend's back.
        bool aFirst = string.CompareOrdinal(Address(a), Address(b)) < 0;
        (IActorRef busy, IActorRef idle, string busyAddress) = aFirst ? (aEngine, bEngine, Address(a)) : (bEngine, aEngine, Address(b));
        TestProbe load = CreateTestProbe();
        var sampling = new SamplingParameters { Temperature = 0, MaxTokens = 30, IgnoreEos = true };
        busy.Tell(new Generate([11, 12], sampling), load.Ref);
        busy.Tell(new Generate([13, 14], sampling), load.Ref);
        AwaitCondition(() => Workers(frontend).Single(w => w.Address == busyAddress).Running == 2, Patience);

        TestProbe client = CreateTestProbe();
        var request = new SamplingParameters { Temperature = 0, MaxTokens = 10, IgnoreEos = true };
        frontend.Tell(new Generate([5, 6, 7], request) { CorrelationId = "routed" }, client.Ref);
        Token first = client.ExpectMsg<Token>(Patience);

        Assert.Equal(("routed", 0), (first.CorrelationId, first.Index));
        Assert.Equal(1, Status(idle).Running);
        Assert.Equal(2, Status(busy).Running);
        (List<Token> rest, Completed end) = Collect(client);
        Assert.Equal(_fixture.Alone([5, 6, 7], request), [first.TokenId, .. rest.Select(t => t.TokenId)]);
        Assert.Equal(new Usage(3, 10), end.Usage);
    }

    [Fact]
    public void A_worker_crashing_mid_generation_costs_no_token_greedy_or_seeded()
    {
        (ActorSystem, IActorRef)[] workers = [_nodes.TinyWorker(Pace), _nodes.TinyWorker(Pace)];
        IActorRef frontend = Frontend(TimeSpan.FromSeconds(20));
        AwaitWorkers(frontend, 2);
        (int[] Prompt, SamplingParameters Sampling)[] requests =
        [
            ([464, 2068], new SamplingParameters { Temperature = 0, MaxTokens = 20, IgnoreEos = true }),
            ([464, 2069], new SamplingParameters { Temperature = 0, MaxTokens = 20, IgnoreEos = true, RepetitionPenalty = 1.3f }),
            ([318, 257], new SamplingParameters { Temperature = 1.1f, TopK = 40, Seed = 7, MaxTokens = 20, IgnoreEos = true }),
            ([318, 258], new SamplingParameters { Temperature = 0.8f, TopP = 0.9f, Seed = 8, MaxTokens = 20, IgnoreEos = true, FrequencyPenalty = 0.5f }),
        ];
        TestProbe[] clients = [.. requests.Select(_ => CreateTestProbe())];
        for (int i = 0; i < requests.Length; i++)
        {
            frontend.Tell(new Generate(requests[i].Prompt, requests[i].Sampling) { CorrelationId = $"r{i}" }, clients[i].Ref);
        }

        List<Token>[] heads = [.. clients.Select(c => new List<Token> { c.ExpectMsg<Token>(Patience), c.ExpectMsg<Token>(Patience) })];
        // Every request is mid-generation now (2 of its 20 tokens received): stop the worker running most.
        (ActorSystem victim, int onVictim) = Busiest(workers);
        var lost = Stopwatch.StartNew();
        // A crash: the system stops its actors and transport without draining or leaving the cluster.
        victim.Terminate();

        for (int i = 0; i < requests.Length; i++)
        {
            (List<Token> rest, Completed end) = Collect(clients[i]);
            List<Token> all = [.. heads[i], .. rest];
            Assert.Equal(Enumerable.Range(0, all.Count), all.Select(t => t.Index));
            Assert.Equal(_fixture.Alone(requests[i].Prompt, requests[i].Sampling), all.Select(t => t.TokenId));
            Assert.Equal(Gpt2Tokenizer.Default.Decode([.. all.Select(t => t.TokenId)]), string.Concat(all.Select(t => t.TextDelta)) + end.TrailingText);
            Assert.Equal((FinishReason.Length, new Usage(2, 20), $"r{i}"), (end.FinishReason, end.Usage, end.CorrelationId));
        }

        _output.WriteLine($"{onVictim} of {requests.Length} requests ran on the crashed worker; all completed {lost.Elapsed.TotalSeconds:0.0} s after the crash");
        Assert.InRange(onVictim, 2, requests.Length);
    }

    [Fact]
    public void A_worker_leaving_gracefully_finishes_its_requests_before_it_leaves()
    {
        (ActorSystem worker, _) = _nodes.TinyWorker(Pace);
        // No other worker and a short wait: a request moved off the leaving worker would end with an error.
        IActorRef frontend = Frontend(TimeSpan.FromSeconds(1));
        AwaitWorkers(frontend, 1);
        var sampling = new SamplingParameters { Temperature = 0, MaxTokens = 30, IgnoreEos = true };
        TestProbe client = CreateTestProbe();
        frontend.Tell(new Generate([7, 8], sampling) { CorrelationId = "drained" }, client.Ref);
        List<Token> head = [client.ExpectMsg<Token>(Patience), client.ExpectMsg<Token>(Patience)];

        Task leaving = ClusterHarness.Leave(worker);
        // The frontends hear at once that the worker takes nothing new.
        AwaitCondition(() => Workers(frontend).All(w => !w.Serving), Patience);
        TestProbe late = CreateTestProbe();
        frontend.Tell(new Generate([7, 8], sampling) { CorrelationId = "late" }, late.Ref);
        (List<Token> rest, Completed end) = Collect(client);

        Assert.Equal(_fixture.Alone([7, 8], sampling), head.Concat(rest).Select(t => t.TokenId));
        Assert.Equal((FinishReason.Length, new Usage(2, 30)), (end.FinishReason, end.Usage));
        Assert.Equal(RejectionCode.EngineUnavailable, late.ExpectMsg<Rejected>(Patience).Code);
        AwaitCondition(() => leaving.IsCompleted && worker.WhenTerminated.IsCompleted, Patience);
    }

    [Fact]
    public void A_worker_cut_off_by_the_network_mid_generation_costs_no_token()
    {
        (ActorSystem, IActorRef)[] workers = [_nodes.TinyWorker(Pace), _nodes.TinyWorker(Pace)];
        IActorRef frontend = Frontend(TimeSpan.FromSeconds(20));
        AwaitWorkers(frontend, 2);
        (int[] Prompt, SamplingParameters Sampling)[] requests =
        [
            ([464, 2068], new SamplingParameters { Temperature = 0, MaxTokens = 24, IgnoreEos = true }),
            ([318, 257], new SamplingParameters { Temperature = 1.1f, TopK = 40, Seed = 7, MaxTokens = 24, IgnoreEos = true }),
        ];
        TestProbe[] clients = [.. requests.Select(_ => CreateTestProbe())];
        for (int i = 0; i < requests.Length; i++)
        {
            frontend.Tell(new Generate(requests[i].Prompt, requests[i].Sampling) { CorrelationId = $"r{i}" }, clients[i].Ref);
        }

        List<Token>[] heads = [.. clients.Select(c => new List<Token> { c.ExpectMsg<Token>(Patience), c.ExpectMsg<Token>(Patience) })];
        (ActorSystem victim, int onVictim) = Busiest(workers);
        Assert.InRange(onVictim, 1, requests.Length);
        // The worker keeps computing, but nothing it sends reaches the frontend: only the failure
        // detector can tell (no graceful leave, no Completed(Error), no Terminated).
        var cut = Stopwatch.StartNew();
        _nodes.Isolate(victim, cut: true);

        for (int i = 0; i < requests.Length; i++)
        {
            (List<Token> rest, Completed end) = Collect(clients[i]);
            List<Token> all = [.. heads[i], .. rest];
            Assert.Equal(Enumerable.Range(0, all.Count), all.Select(t => t.Index));
            Assert.Equal(_fixture.Alone(requests[i].Prompt, requests[i].Sampling), all.Select(t => t.TokenId));
            Assert.Equal((FinishReason.Length, new Usage(2, 24)), (end.FinishReason, end.Usage));
        }

        _output.WriteLine($"the request on the cut-off worker completed elsewhere {cut.Elapsed.TotalSeconds:0.0} s after the cut (default failure detector)");
        // Heal before the harness stops the nodes (the split brain resolver may have downed the victim already).
        _nodes.Isolate(victim, cut: false);
    }

    [Fact]
    public void A_worker_with_another_fingerprint_gets_no_failover_and_the_request_ends_with_an_error_after_the_wait()
    {
        (ActorSystem a, _) = _nodes.TinyWorker(Pace);
        var received = new ConcurrentQueue<Generate>();
        // Same model name, other weights; it reports itself full, so the request starts on a.
        _nodes.StubWorker(ClusterHarness.Tiny with { WeightsHash = "other-weights" }, new EngineStatus(4, 0, 4, 0), received);
        IActorRef frontend = Frontend(TimeSpan.FromSeconds(2));
        AwaitWorkers(frontend, 2);
        var sampling = new SamplingParameters { Temperature = 0, MaxTokens = 20, IgnoreEos = true };
        TestProbe client = CreateTestProbe();
        frontend.Tell(new Generate([5, 6], sampling) { CorrelationId = "orphan" }, client.Ref);
        List<Token> head = [client.ExpectMsg<Token>(Patience), client.ExpectMsg<Token>(Patience)];

        // A crash (no drain): the request must move, and only a worker with another fingerprint is left.
        a.Terminate();
        (List<Token> rest, Completed end) = Collect(client);

        List<int> got = [.. head.Concat(rest).Select(t => t.TokenId)];
        Assert.Equal(_fixture.Alone([5, 6], sampling).Take(got.Count), got);
        Assert.Equal((FinishReason.Error, got.Count), (end.FinishReason, end.Usage.CompletionTokens));
        Assert.Contains("no worker with the same fingerprint", end.Error, StringComparison.Ordinal);
        Assert.Empty(received);
    }

    [Fact]
    public void A_cluster_of_one_frontend_and_one_worker_losing_the_worker_keeps_the_frontend()
    {
        ActorSystem worker = _nodes.StubWorker(ClusterHarness.Tiny, new EngineStatus(0, 0, 0, 4), new ConcurrentQueue<Generate>());
        IActorRef frontend = Frontend(TimeSpan.FromSeconds(1));
        AwaitWorkers(frontend, 1);
        string lost = Address(worker);
        var cluster = Akka.Cluster.Cluster.Get(Sys);

        // A partition of two nodes: by count it is a tie, which keep-majority would break by address
        // (possibly downing the frontend); counting only frontends, the frontend's side is the majority.
        var cut = Stopwatch.StartNew();
        ClusterHarness.Blackhole(Sys, worker, cut: true);
        AwaitCondition(() => worker.WhenTerminated.IsCompleted, Patience);
        AwaitCondition(() => cluster.State.Members.All(m => m.Address.ToString() != lost), Patience);
        _output.WriteLine($"the worker downed itself and was removed {cut.Elapsed.TotalSeconds:0.0} s after the cut (stable-after 2 s)");

        Assert.Equal(Akka.Cluster.MemberStatus.Up, cluster.SelfMember.Status);
        Assert.False(cluster.IsTerminated);
        frontend.Tell(new Generate([5, 6], new SamplingParameters { MaxTokens = 2 }) { CorrelationId = "after" });
        Assert.Equal(RejectionCode.EngineUnavailable, ExpectMsg<Rejected>(Patience).Code);
    }

    [Fact]
    public void With_no_worker_a_request_is_rejected_as_unavailable_after_the_wait()
    {
        IActorRef frontend = Frontend(TimeSpan.FromMilliseconds(500));
        frontend.Tell(new Generate([5, 6], new SamplingParameters { MaxTokens = 2 }) { CorrelationId = "alone" });

        Rejected rejected = ExpectMsg<Rejected>(Patience);
        Assert.Equal(("alone", RejectionCode.EngineUnavailable), (rejected.CorrelationId, rejected.Code));
        Assert.Contains("flover.cluster.worker-wait", rejected.Reason, StringComparison.Ordinal);
        Assert.Equal("no worker serving 'tiny' is up", Status(frontend).Stalled);
    }

    protected override void AfterAll()
    {
        _nodes.Dispose();
        base.AfterAll();
    }

    private IActorRef Frontend(TimeSpan workerWait) =>
        Sys.ActorOf(ClusterEngine.Props("tiny", new ClusterRoutingSettings(workerWait, ClusterHarness.StatusInterval, MaxFailovers: 3)));

    private static string Address(ActorSystem node) => Akka.Cluster.Cluster.Get(node).SelfAddress.ToString();

    private void AwaitWorkers(IActorRef frontend, int count) =>
        AwaitCondition(() => Workers(frontend).Count(w => w.Serving) == count, Patience);

    private IReadOnlyList<WorkerLoad> Workers(IActorRef frontend)
    {
        frontend.Tell(ListWorkers.Instance, TestActor);
        return ExpectMsg<WorkerList>(Patience).Workers;
    }

    /// <summary>The worker whose engine runs the most requests now, and how many.</summary>
    private (ActorSystem Node, int Running) Busiest((ActorSystem Node, IActorRef Engine)[] workers) =>
        workers.Select(w => (w.Node, Status(w.Engine).Running)).MaxBy(w => w.Running);

    private EngineStatus Status(IActorRef engine)
    {
        engine.Tell(ProbeEngine.Instance, TestActor);
        return ExpectMsg<EngineStatus>(Patience);
    }

    private static (List<Token> Tokens, Completed End) Collect(TestProbe client)
    {
        var tokens = new List<Token>();
        while (client.ReceiveOne(Patience) is Token token)
        {
            tokens.Add(token);
        }

        return (tokens, Assert.IsType<Completed>(client.LastMessage));
    }
}
