using System.Net;
using Akka.Actor;
using Akka.TestKit;
using Flover.Actors.Inference;
using Flover.Actors.Inference.Sharding;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Collectives;
using Flover.Gpu.Memory;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.Gpu.Sampling;
using Flover.Gpu.Tokenization;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Inference;

/// <summary>
/// A group across nodes that loses a rank (its node stopped, or the rank failing a step) is placed
/// again on a node with room and its requests get exactly their undisturbed tokens; with no room they
/// end with one error, and the placement is tried again until a node has room.
/// </summary>
[Trait("Category", "Slow")]
public sealed class CrossNodeFailoverSpec(ITestOutputHelper output) : CrossNodeSpec(output)
{
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
        await Nodes[0].Terminate();

        // ...and finish on the rebuilt one (rank 1 on the spare), every token exactly once and in order.
        (List<int> rest, Completed completed) = Collect(first);
        Assert.Equal(FinishReason.Length, completed.FinishReason);
        Assert.Equal(expectedGreedy, tokens.Concat(rest).ToList());
        (List<int> seededTokens, Completed seededCompleted) = Collect(second);
        Assert.Equal(FinishReason.Length, seededCompleted.FinishReason);
        Assert.Equal(expectedSeeded, seededTokens);
        // Across nodes a lost rank takes its group with it: both ranks were placed again.
        Assert.Equal(new[] { 0, 1 }, new[] { replaced.ExpectMsg<ShardReplaced>().Rank, replaced.ExpectMsg<ShardReplaced>().Rank }.Order());
        Nodes[1].ActorSelection($"/user/{ShardHostActor.Name}/*").Tell(new Identify(null), TestActor);
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

        await Nodes[0].Terminate();

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
        Nodes.Add(late);
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
        using var whole = Gpt2Model.Load(new EngineOptions(1), Weights, new Gpt2ModelOptions(Slots));
        Assert.Equal(ShardedModelTests.Greedy(whole, prompt, 6), tokens);
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
        Nodes.Add(node);
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
        Assert.Matches("shard 1 failed a step: injected|shard 0's connection to rank 1 dropped during a collective: rank 1 failed or its node was lost", replaced.ExpectMsg<ShardReplaced>().Reason);
        Assert.True(Volatile.Read(ref decodes) > 4, "rank 1 decoded again after the failure, in the group placed again");
    }

    [Fact]
    public void A_rank_whose_connection_drops_mid_step_has_its_node_asked_last_so_the_group_moves_to_the_spare_at_once()
    {
        var greedy = new SamplingParameters { Temperature = 0, MaxTokens = 12, IgnoreEos = true };
        int[] prompt = [5, 17, 2, 90, 33];
        List<int> expected;
        using (ShardedModelClient reference = ShardedModelClient.Start(Sys, Shards(2), Slots))
        {
            expected = [.. SequenceGenerator.Generate(reference, 0, prompt, greedy, Config.EosTokenId).Tokens.Select(t => t.TokenId)];
        }

        // As kill -9 of rank 1's process looks from rank 0: in the fourth decode rank 1 goes silent
        // (no answer, no Terminated: its node is not known to be gone) and rank 0's collective fails
        // with rank 1's connection dropped, as the TCP mesh reports it. The silent node's host still
        // answers, so only the order of the next placement keeps rank 1 off it.
        using var frozen = new ManualResetEventSlim();
        try
        {
            int zeroDecodes = 0, oneDecodes = 0;
            Sys.ActorOf(ShardHostActor.Props(new ShardHostOptions(Shards(2).WithWrap(model => new Breaks(model, () => Interlocked.Increment(ref zeroDecodes) == 4, () => throw new CommunicatorAbortedException("Tensor-parallel rank 1's connection to rank 0 failed during a collective: reset", 1, new IOException("reset")))), IPAddress.Loopback)), ShardHostActor.Name);
            Address victim = StartNode(new ShardHostOptions(Shards(2).WithWrap(model => new Breaks(model, () => Interlocked.Increment(ref oneDecodes) == 4, () => frozen.Wait())), IPAddress.Loopback));
            Address spare = StartNode(2);
            var options = new DecodeLoopOptions(8, 512, MemoryMode.Indexed, Config.EosTokenId);
            TestProbe replaced = CreateTestProbe();
            Sys.EventStream.Subscribe(replaced.Ref, typeof(ShardReplaced));
            // The victim comes first in the list, and a silent host would cost a minute.
            ShardedModel shards = Shards(2).WithPlacement(new ShardPlacement([victim, spare]) { Timeout = TimeSpan.FromMinutes(1) });
            IActorRef engine = Sys.ActorOf(InferenceEngine.Props(shards, options, Gpt2Tokenizer.Default), "engine");

            (List<int> tokens, Completed completed) = Collect(CreateProbeFor(engine, prompt, greedy));

            Assert.Equal(FinishReason.Length, completed.FinishReason);
            Assert.Equal(expected, tokens);
            Assert.Equal("tensor-parallel shard 0's connection to rank 1 dropped during a collective: rank 1 failed or its node was lost (a rank's own error is in its node's log)", replaced.ExpectMsg<ShardReplaced>().Reason);
            // Rank 1 of the group placed again is the spare's: the victim was not asked first.
            Nodes[1].ActorSelection($"/user/{ShardHostActor.Name}/*").Tell(new Identify(null), TestActor);
            Assert.NotNull(ExpectMsg<ActorIdentity>().Subject);
        }
        finally
        {
            // The frozen rank's thread returns, so its node can stop.
            frozen.Set();
        }
    }

    /// <summary>A shard's model that runs <c>breaking</c> instead of a Decode when <c>now</c> says so (on the shard's thread); it owns the model it wraps.</summary>
    private sealed class Breaks(IModel inner, Func<bool> now, Action breaking) : DelegatingModel(inner)
    {
        public override ModelLogits Decode(ReadOnlySpan<DecodeRow> rows)
        {
            if (now())
            {
                breaking();
            }

            return Inner.Decode(rows);
        }

        public override void Dispose() => Inner.Dispose();
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
