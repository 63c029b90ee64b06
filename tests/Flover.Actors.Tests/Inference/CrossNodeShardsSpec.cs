using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Flover.Actors.Inference;
using Flover.Actors.Inference.Sharding;
using Flover.Configuration;
using Flover.Gpu;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Memory;
using Flover.Gpu.Models.Gpt2;
using Flover.Gpu.Sampling;
using Flover.Gpu.Tokenization;
using Flover.Gpu.Tests.Models;
using Xunit.Abstractions;
using AkkaConfig = Akka.Configuration.Config;
using ConfigurationFactory = Akka.Configuration.ConfigurationFactory;
using FloverConfig = Flover.Configuration.Config;

namespace Flover.Actors.Tests.Inference;

/// <summary>
/// Tensor parallelism across nodes: the test's system (rank 0's node, where the shards are driven)
/// and one or two more ActorSystems in this process, joined over real Akka.Remote on 127.0.0.1, each
/// with its shard host; the ranks meet over TCP collectives. The split over nodes gives the split in
/// one process bit for bit, and the whole model's greedy tokens.
/// </summary>
[Trait("Category", "Slow")]
public sealed class CrossNodeShardsSpec : TestKit, IDisposable
{
    // 12 heads, so 2 and 3 ranks both divide them; a vocabulary of 301 splits unevenly.
    private static readonly Gpt2Config Config = TinyGpt2.Config(embedding: 48, heads: 12, vocabulary: 301);
    private const int Slots = 4;
    private readonly NativeModelWeights _weights = TinyGpt2.Weights(Config, TensorDType.F32, seed: 21);
    private readonly List<ActorSystem> _nodes = [];
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("flover-xtp-");

    public CrossNodeShardsSpec(ITestOutputHelper output)
        : base(Node, output: output)
    {
    }

    /// <summary>A node: the remote provider on 127.0.0.1 with a free port, over the actor specs' configuration (every message serialized).</summary>
    internal static AkkaConfig Node { get; } = ConfigurationFactory.ParseString("""
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
        akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
        """).WithFallback(AkkaTestConfig.Default);

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Ranks_on_other_nodes_give_the_in_process_groups_logits_bit_for_bit_and_the_whole_models_greedy_tokens(int size)
    {
        Host(Sys, size);
        Address[] others = [.. Enumerable.Range(1, size - 1).Select(_ => StartNode(size))];
        ShardedModel inProcess = Shards(size);
        using ShardedModelClient local = ShardedModelClient.Start(Sys, inProcess, Slots);
        using ShardedModelClient across = ShardedModelClient.Start(Sys, inProcess.WithPlacement(new ShardPlacement(others)), Slots, TimeSpan.FromSeconds(60));

        // Every other node holds one rank's shard actor under its host (nothing ran in this process only).
        foreach (ActorSystem node in _nodes)
        {
            node.ActorSelection($"/user/{ShardHostActor.Name}/*").Tell(new Identify(node.Name), TestActor);
            Assert.NotNull(ExpectMsg<ActorIdentity>().Subject);
        }

        Assert.Equal(ShardedModelTests.Script(local), ShardedModelTests.Script(across));
        using var whole = Gpt2Model.Load(new EngineOptions(1), _weights, new Gpt2ModelOptions(Slots));
        int[] prompt = [5, 17, 2, 90, 33];
        Assert.Equal(ShardedModelTests.Greedy(whole, prompt, 8), ShardedModelTests.Greedy(across, prompt, 8));
    }

    [Fact]
    public void A_group_no_node_has_room_for_is_refused_naming_each_node_and_why()
    {
        Host(Sys, 2);
        Address wrongSize = StartNode(3);

        var error = Assert.Throws<FloverException>(() => ShardedModelClient.Start(Sys, Shards(2).WithPlacement(new ShardPlacement([wrongSize])), Slots, TimeSpan.FromSeconds(30)));

        Assert.Contains("cannot be placed across nodes", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{wrongSize}: {wrongSize}'s shard host opens ranks of groups of 3, not 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_shards_node_lost_mid_generation_is_replaced_by_a_node_with_room_and_the_requests_get_their_undisturbed_tokens()
    {
        var greedy = new SamplingParameters { Temperature = 0, MaxTokens = 16, IgnoreEos = true };
        var seeded = new SamplingParameters { Temperature = 0.9f, Seed = 7, MaxTokens = 16, IgnoreEos = true };
        int[] prompt = [5, 17, 2, 90, 33];
        List<int> expectedGreedy, expectedSeeded;
        using (ShardedModelClient reference = ShardedModelClient.Start(Sys, Shards(2), Slots))
        {
            expectedGreedy = [.. SequenceGenerator.Generate(reference, 0, prompt, greedy, Config.EosTokenId).Tokens.Select(t => t.TokenId)];
            expectedSeeded = [.. SequenceGenerator.Generate(reference, 0, prompt, seeded, Config.EosTokenId).Tokens.Select(t => t.TokenId)];
        }

        Host(Sys, 2);
        Address victim = StartNode(2);
        Address spare = StartNode(2);
        // Paced, so the node is lost with most tokens still to come; a silent node is passed over after 2 s.
        var options = new DecodeLoopOptions(8, 512, MemoryMode.Indexed, Config.EosTokenId) { MinStepInterval = TimeSpan.FromMilliseconds(40) };
        ShardedModel shards = Shards(2).WithPlacement(new ShardPlacement([victim, spare]) { Timeout = TimeSpan.FromSeconds(2) });
        TestProbe replaced = CreateTestProbe();
        Sys.EventStream.Subscribe(replaced.Ref, typeof(ShardReplaced));
        IActorRef engine = Sys.ActorOf(InferenceEngine.Props(shards, options, Gpt2Tokenizer.Default), "engine");
        TestProbe first = CreateTestProbe();
        TestProbe second = CreateTestProbe();
        engine.Tell(new Generate(prompt, greedy), first);
        engine.Tell(new Generate(prompt, seeded), second);

        // Both requests are under way on the first group (rank 1 on the victim's node)...
        var tokens = new List<int> { first.ExpectMsg<Token>(TimeSpan.FromSeconds(60)).TokenId, first.ExpectMsg<Token>().TokenId };
        await _nodes[0].Terminate();

        // ...and finish on the rebuilt one (rank 1 on the spare), every token exactly once and in order.
        (List<int> rest, Completed completed) = Collect(first);
        Assert.Equal(FinishReason.Length, completed.FinishReason);
        Assert.Equal(expectedGreedy, tokens.Concat(rest).ToList());
        (List<int> seededTokens, Completed seededCompleted) = Collect(second);
        Assert.Equal(FinishReason.Length, seededCompleted.FinishReason);
        Assert.Equal(expectedSeeded, seededTokens);
        // Across nodes a lost rank takes its group with it: both ranks were placed again.
        Assert.Equal(new[] { 0, 1 }, new[] { replaced.ExpectMsg<ShardReplaced>().Rank, replaced.ExpectMsg<ShardReplaced>().Rank }.Order());
        _nodes[1].ActorSelection($"/user/{ShardHostActor.Name}/*").Tell(new Identify(null), TestActor);
        Assert.NotNull(ExpectMsg<ActorIdentity>().Subject);
    }

    [Fact]
    public async Task When_no_node_has_room_for_the_lost_rank_the_requests_end_with_one_error_naming_why_and_new_ones_are_refused()
    {
        Host(Sys, 2);
        Address victim = StartNode(2);
        var options = new DecodeLoopOptions(8, 512, MemoryMode.Indexed, Config.EosTokenId) { MinStepInterval = TimeSpan.FromMilliseconds(40) };
        ShardedModel shards = Shards(2).WithPlacement(new ShardPlacement([victim]) { Timeout = TimeSpan.FromSeconds(1) });
        IActorRef engine = Sys.ActorOf(InferenceEngine.Props(shards, options, Gpt2Tokenizer.Default), "engine");
        TestProbe client = CreateTestProbe();
        engine.Tell(new Generate([5, 17, 2, 90, 33], new SamplingParameters { Temperature = 0, MaxTokens = 16, IgnoreEos = true }), client);
        client.ExpectMsg<Token>(TimeSpan.FromSeconds(60));

        await _nodes[0].Terminate();

        (_, Completed completed) = Collect(client);
        Assert.Equal(FinishReason.Error, completed.FinishReason);
        Assert.Contains("the tensor-parallel group of 2 ranks cannot be placed across nodes", completed.Error, StringComparison.Ordinal);
        Assert.Contains($"{victim}: no answer within 1 s", completed.Error, StringComparison.Ordinal);
        engine.Tell(new Generate([5], new SamplingParameters { MaxTokens = 2 }), client);
        Assert.Contains("cannot be placed across nodes", client.ExpectMsg<Rejected>().Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_group_that_cannot_be_placed_yet_is_placed_again_once_a_node_has_room_and_then_serves()
    {
        Host(Sys, 2);
        // The node is up but its shard host is not (yet): the placement finds no room.
        ActorSystem late = ActorSystem.Create("late", Node);
        _nodes.Add(late);
        Address node = ((ExtendedActorSystem)late).Provider.DefaultAddress;
        var options = new DecodeLoopOptions(8, 512, MemoryMode.Indexed, Config.EosTokenId);
        IActorRef engine = Sys.ActorOf(InferenceEngine.Props(Shards(2).WithPlacement(new ShardPlacement([node]) { Timeout = TimeSpan.FromSeconds(1) }), options, Gpt2Tokenizer.Default), "engine");
        var greedy = new SamplingParameters { Temperature = 0, MaxTokens = 6, IgnoreEos = true };
        int[] prompt = [5, 17, 2, 90, 33];

        Assert.Contains($"{node}: no answer within 1 s", AwaitStatus(engine, status => status.Stalled?.Contains("cannot be placed", StringComparison.Ordinal) == true).Stalled, StringComparison.Ordinal);
        engine.Tell(new Generate(prompt, greedy));
        Assert.Contains("cannot be placed across nodes", ExpectMsg<Rejected>().Reason, StringComparison.Ordinal);

        Host(late, 2);
        AwaitStatus(engine, status => status.Stalled is null);
        (List<int> tokens, Completed completed) = Collect(CreateProbeFor(engine, prompt, greedy));
        Assert.Equal(FinishReason.Length, completed.FinishReason);
        using var whole = Gpt2Model.Load(new EngineOptions(1), _weights, new Gpt2ModelOptions(Slots));
        Assert.Equal(ShardedModelTests.Greedy(whole, prompt, 6), tokens);
    }

    [Fact]
    public void A_node_that_just_lost_a_shard_of_the_group_is_asked_last()
    {
        Host(Sys, 2);
        Address suspect = StartNode(2);
        Address other = StartNode(2);

        var placement = new ShardPlacement([suspect, other]);
        Address[] suspects = [suspect];
        ChildActorOf(Props.Create(() => new ShardPlacementActor(placement, "owner", 1, 2, Slots, suspects)));

        ShardsPlaced placed = ExpectMsg<ShardsPlaced>(TimeSpan.FromSeconds(30));
        Assert.Equal(other, placed.Shards[1].Path.Address);
    }

    [Fact]
    public void A_node_releases_its_checkpoint_once_its_rank_has_loaded()
    {
        Host(Sys, 2);
        ShardedModel model = Shards(2);
        using var released = new ManualResetEventSlim();
        Address node = StartNode(new ShardHostOptions(new ShardedModel(model.Shape, 2, model.Create, model.Device) { WhenLoaded = released.Set }, IPAddress.Loopback));
        Assert.False(released.IsSet);

        using ShardedModelClient across = ShardedModelClient.Start(Sys, model.WithPlacement(new ShardPlacement([node])), Slots, TimeSpan.FromSeconds(60));

        Assert.True(released.Wait(TimeSpan.FromSeconds(30)), "the node's host released its checkpoint after rank 1 loaded");
    }

    [Fact]
    public void A_rank_that_fails_a_step_takes_its_group_with_it_and_the_request_still_gets_its_undisturbed_tokens()
    {
        var greedy = new SamplingParameters { Temperature = 0, MaxTokens = 12, IgnoreEos = true };
        int[] prompt = [5, 17, 2, 90, 33];
        List<int> expected;
        using (ShardedModelClient reference = ShardedModelClient.Start(Sys, Shards(2), Slots))
        {
            expected = [.. SequenceGenerator.Generate(reference, 0, prompt, greedy, Config.EosTokenId).Tokens.Select(t => t.TokenId)];
        }

        Host(Sys, 2);
        // Rank 1's node throws in its fourth decode, once: its collectives are aborted, every rank
        // reports, and the loop does not wait for the rest of the group before placing it again.
        int decodes = 0;
        ActorSystem node = ActorSystem.Create("node1", Node);
        _nodes.Add(node);
        node.ActorOf(ShardHostActor.Props(new ShardHostOptions(Shards(2).WithWrap(model => new FailsOnce(model, () => Interlocked.Increment(ref decodes) == 4)), IPAddress.Loopback)), ShardHostActor.Name);
        Address other = ((ExtendedActorSystem)node).Provider.DefaultAddress;
        var options = new DecodeLoopOptions(8, 512, MemoryMode.Indexed, Config.EosTokenId);
        TestProbe replaced = CreateTestProbe();
        Sys.EventStream.Subscribe(replaced.Ref, typeof(ShardReplaced));
        IActorRef engine = Sys.ActorOf(InferenceEngine.Props(Shards(2).WithPlacement(new ShardPlacement([other])), options, Gpt2Tokenizer.Default), "engine");
        TestProbe client = CreateTestProbe();
        engine.Tell(new Generate(prompt, greedy), client);

        (List<int> tokens, Completed completed) = Collect(client);

        Assert.Equal(FinishReason.Length, completed.FinishReason);
        Assert.Equal(expected, tokens);
        // The step ends on the first report: rank 1's own, or rank 0's (its connection to rank 1
        // dropped when rank 1 aborted the mesh), whichever reaches the loop first.
        Assert.Matches("shard 1 failed a step: injected|shard 0's collectives failed: another rank failed or its node was lost", replaced.ExpectMsg<ShardReplaced>().Reason);
        Assert.True(Volatile.Read(ref decodes) > 4, "rank 1 decoded again after the failure, in the group placed again");
    }

    [Fact]
    public void With_tls_ranks_mesh_over_the_clusters_certificate_and_a_node_with_another_is_refused()
    {
        string cluster = Certificate("CN=flover-cluster");
        // Room for two ranks here: the first group's rank 0 may still be closing when the second is placed.
        Sys.ActorOf(ShardHostActor.Props(TlsHost(2, cluster, capacity: 2)), ShardHostActor.Name);
        Address member = StartNode(TlsHost(2, cluster));
        int[] prompt = [5, 17, 2, 90, 33];
        using (ShardedModelClient local = ShardedModelClient.Start(Sys, Shards(2), Slots))
        using (ShardedModelClient across = ShardedModelClient.Start(Sys, Shards(2).WithPlacement(new ShardPlacement([member])), Slots, TimeSpan.FromSeconds(60)))
        {
            Assert.Equal(ShardedModelTests.Greedy(local, prompt, 6), ShardedModelTests.Greedy(across, prompt, 6));
        }

        Address stranger = StartNode(TlsHost(2, Certificate("CN=stranger")));
        var error = Assert.Throws<FloverException>(() => ShardedModelClient.Start(Sys, Shards(2).WithPlacement(new ShardPlacement([stranger])), Slots, TimeSpan.FromSeconds(60)));

        Assert.Contains("could not join the mesh", error.Message, StringComparison.Ordinal);
        Assert.Contains("failed mutual TLS authentication", error.Message, StringComparison.Ordinal);
    }

    public new void Dispose()
    {
        Task.WaitAll([.. _nodes.Select(node => node.Terminate())], TimeSpan.FromSeconds(30));
        _weights.Dispose();
        _folder.Delete(recursive: true);
        base.Dispose();
    }

    private TestProbe CreateProbeFor(IActorRef engine, int[] prompt, SamplingParameters sampling)
    {
        TestProbe probe = CreateTestProbe();
        engine.Tell(new Generate(prompt, sampling), probe);
        return probe;
    }

    /// <summary>Probes the engine until <paramref name="condition"/> holds (the probes spaced by 20 ms), at most 30 s.</summary>
    private EngineStatus AwaitStatus(IActorRef engine, Func<EngineStatus, bool> condition)
    {
        TestProbe probe = CreateTestProbe();
        DateTime giveUp = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            engine.Tell(ProbeEngine.Instance, probe);
            EngineStatus status = probe.ExpectMsg<EngineStatus>(TimeSpan.FromSeconds(10));
            if (condition(status))
            {
                return status;
            }

            Assert.True(DateTime.UtcNow < giveUp, $"the engine never reached the expected state; last status: {status}");
            probe.ExpectNoMsg(TimeSpan.FromMilliseconds(20));
        }
    }

    private static (List<int> Tokens, Completed Completed) Collect(TestProbe from)
    {
        var tokens = new List<int>();
        object message;
        while ((message = from.ReceiveOne(TimeSpan.FromSeconds(60))!) is Token token)
        {
            tokens.Add(token.TokenId);
        }

        return (tokens, Assert.IsType<Completed>(message));
    }

    private ShardedModel Shards(int size) =>
        EngineSetup.Shards(new EngineOptions(size, TensorParallel: size), _weights, new Gpt2ModelOptions(Slots));

    private void Host(ActorSystem node, int size) =>
        node.ActorOf(ShardHostActor.Props(new ShardHostOptions(Shards(size), IPAddress.Loopback)), ShardHostActor.Name);

    private Address StartNode(int size) => StartNode(new ShardHostOptions(Shards(size), IPAddress.Loopback));

    private Address StartNode(ShardHostOptions host)
    {
        ActorSystem node = ActorSystem.Create($"node{_nodes.Count + 1}", Node);
        _nodes.Add(node);
        node.ActorOf(ShardHostActor.Props(host), ShardHostActor.Name);
        return ((ExtendedActorSystem)node).Provider.DefaultAddress;
    }

    /// <summary>A host's options as a node with TLS on reads them from its configuration (<c>ShardHosting.Options</c>), over loopback.</summary>
    private ShardHostOptions TlsHost(int size, string certificate, int capacity = 1)
    {
        FloverConfig config = FloverConfiguration.Load(new ConfigurationSources
        {
            Overrides =
            [
                "akka.remote.dot-netty.tcp.enable-ssl = on",
                $"akka.remote.dot-netty.tcp.ssl.certificate.path = \"{certificate}\"",
                "akka.remote.dot-netty.tcp.ssl.certificate.password = secret",
                $"flover.parallel.host-capacity = {capacity}",
            ],
            Environment = _ => null,
            WorkingDirectory = AppContext.BaseDirectory,
        });
        ShardHostOptions options = ShardHosting.Options(config, Shards(size), Address.Parse("akka.tcp://flover@127.0.0.1:1"));
        Assert.NotNull(options.Tcp.Certificate);
        return options with { ListenAddress = IPAddress.Loopback };
    }

    /// <summary>A self-signed certificate with its key in a PKCS#12 file (password "secret"), deleted with the test's temporary folder.</summary>
    private string Certificate(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 certificate = new CertificateRequest(subject, key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        string path = Path.Combine(_folder.FullName, $"{subject[3..]}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, "secret"));
        return path;
    }

    /// <summary>A shard's model whose Decode throws when <c>fails</c> says so (on the shard's thread).</summary>
    private sealed class FailsOnce(IModel inner, Func<bool> fails) : IModel
    {
        public int VocabularySize => inner.VocabularySize;

        public int SlotCount => inner.SlotCount;

        public int SlotCapacity => inner.SlotCapacity;

        public long KvBytesPerSlot => inner.KvBytesPerSlot;

        public ModelLogits Prefill(IReadOnlyList<PrefillPrompt> prompts) => inner.Prefill(prompts);

        public ModelLogits Decode(ReadOnlySpan<DecodeRow> rows) =>
            fails() ? throw new InvalidOperationException("injected") : inner.Decode(rows);

        public void Copy(int fromSlot, int toSlot, int length) => inner.Copy(fromSlot, toSlot, length);

        public void Release(int slot) => inner.Release(slot);

        public void Dispose() => inner.Dispose();
    }
}
