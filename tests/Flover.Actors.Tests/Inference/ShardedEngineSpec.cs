using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Flover.Actors.Inference;
using Flover.Actors.Inference.Sharding;
using Flover.Gpu;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Memory;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.Gpu.Sampling;
using Flover.Gpu.Tokenization;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Inference;

/// <summary>
/// The decode loop over tensor-parallel shard actors: a shard killed mid-generation, and one that
/// never answers (virtual time: the step's deadline and the abort grace are advanced by the test).
/// </summary>
[Trait("Category", "Slow")]
public sealed class ShardedEngineSpec : TestKit, IDisposable
{
    private const int Slots = 4;
    private const int Capacity = 48;
    private static readonly SamplingParameters Sampling = new() { Temperature = 0.9f, Seed = 7, MaxTokens = 10, IgnoreEos = true };
    private readonly IModelWeights _weights = Gpt2Presets.Create(Gpt2Presets.Tiny);
    private readonly ManualClock _clock = new();
    private readonly int[] _prompt = Gpt2Tokenizer.Default.Encode("Tensor parallel shards");

    public ShardedEngineSpec(ITestOutputHelper output)
        : base(AkkaTestConfig.VirtualTime, output: output)
    {
    }

    private TestScheduler Scheduler => (TestScheduler)Sys.Scheduler;

    private DecodeLoopOptions Options => new(8, 512, MemoryMode.Indexed, _weights.Config.EosTokenId) { StepTimeout = TimeSpan.FromSeconds(30), AbortGrace = TimeSpan.FromSeconds(5) };

    [Fact]
    public void A_shard_killed_mid_generation_is_replaced_and_the_request_gets_exactly_its_uninterrupted_tokens()
    {
        int[] expected = Uninterrupted(2);
        var gate = new GatedModel.Shared();
        ShardedModel shards = EngineSetup.Shards(new EngineOptions(2, TensorParallel: 2), _weights, new Gpt2ModelOptions(Slots, Capacity)).WithWrap(gate.Wrap);
        TestProbe replaced = CreateTestProbe();
        Sys.EventStream.Subscribe(replaced.Ref, typeof(ShardReplaced));
        IActorRef engine = Sys.ActorOf(InferenceEngine.Props(shards, Options, Gpt2Tokenizer.Default, clock: _clock), "engine");

        // Resolved once loaded and while idle: a shard inside a step answers nothing until it returns.
        AwaitStatus(engine, status => status.Stalled is null);
        IActorRef victim = Shard(1);
        gate.Close();
        engine.Tell(new Generate(_prompt, Sampling));
        // Both shards hold at the first decode; shard 1's Kill queues behind that step.
        Assert.True(gate.Waiting.Wait(TimeSpan.FromSeconds(60)), "the shards reached their first decode");
        victim.Tell(Kill.Instance);
        gate.Open();

        (List<int> tokens, Completed completed) = Collect();
        Assert.Equal(FinishReason.Length, completed.FinishReason);
        Assert.Equal(expected, tokens);
        Assert.Equal(1, replaced.ExpectMsg<ShardReplaced>(TimeSpan.FromSeconds(10)).Rank);
    }

    [Fact]
    public void A_shard_that_never_answers_times_out_is_replaced_and_no_token_is_lost()
    {
        int[] expected = Uninterrupted(2);
        ShardedModel real = EngineSetup.Shards(new EngineOptions(2, TensorParallel: 2), _weights, new Gpt2ModelOptions(Slots, Capacity));
        int starts = 0;
        using var silent = new ManualResetEventSlim();
        // Rank 1's first incarnation answers three steps (prefill and two decodes), then falls silent
        // inside the fourth: rank 0 is left waiting for it in a collective.
        var shards = new ShardedModel(real.Shape, 2, real.Create, real.Device)
        {
            ShardProps = (rank, group, slots) =>
            {
                Props shard = Props.Create(() => new ShardActor(real, slots, group, rank)).WithDispatcher(real.Dispatcher);
                return rank == 1 && Interlocked.Increment(ref starts) == 1 ? Props.Create(() => new FallsSilent(shard, 3, silent)) : shard;
            },
        };
        Sys.EventStream.Subscribe(TestActor, typeof(ShardReplaced));
        IActorRef engine = Sys.ActorOf(InferenceEngine.Props(shards, Options, Gpt2Tokenizer.Default, clock: _clock), "engine");
        TestProbe client = CreateTestProbe();
        engine.Tell(new Generate(_prompt, Sampling), client);

        // The fourth step is in flight and neither shard answers it: rank 0 waits in a collective.
        EngineStatus stuck = AwaitStatus(engine, s => s.StepAge is not null && s.ShardsAwaited == 2 && silent.IsSet);
        Assert.Null(stuck.Stalled);
        _clock.Now += Options.StepTimeout;
        Scheduler.Advance(Options.StepTimeout);

        // Past the deadline the collectives are aborted: rank 0 returns and reports; rank 1 stays silent.
        EngineStatus late = AwaitStatus(engine, s => s.ShardsAwaited == 1);
        Assert.Contains("past its deadline", late.Stalled);
        Scheduler.Advance(Options.AbortGrace);
        Assert.Equal(1, ExpectMsg<ShardReplaced>(TimeSpan.FromSeconds(30)).Rank);

        (List<int> tokens, Completed completed) = Collect(client);
        Assert.Equal(FinishReason.Length, completed.FinishReason);
        Assert.Equal(expected, tokens);
        Assert.Null(AwaitStatus(engine, s => s.StepAge is null).Stalled);
    }

    [Fact]
    public void A_shard_stuck_inside_its_model_is_replaced_and_when_it_returns_it_meets_nobody_and_frees_its_model()
    {
        int[] expected = Uninterrupted(2);
        ShardedModel real = EngineSetup.Shards(new EngineOptions(2, TensorParallel: 2), _weights, new Gpt2ModelOptions(Slots, Capacity));
        using var stuck = new StuckModel.Control();
        // Rank 1's first incarnation enters its third decode (the fourth step) and does not come back
        // until the test lets it: a kernel that hangs. Rank 0 waits for it in a collective.
        var stuckSpec = new ShardedModel(real.Shape, 2, (slots, communicator) => new StuckModel(real.Create(slots, communicator), stuck, atDecode: 3), real.Device);
        int starts = 0;
        var shards = new ShardedModel(real.Shape, 2, real.Create, real.Device)
        {
            ShardProps = (rank, group, slots) => Props.Create(() => new ShardActor(
                rank == 1 && Interlocked.Increment(ref starts) == 1 ? stuckSpec : real, slots, group, rank)).WithDispatcher(real.Dispatcher),
        };
        TestProbe replaced = CreateTestProbe();
        Sys.EventStream.Subscribe(replaced.Ref, typeof(ShardReplaced));
        IActorRef engine = Sys.ActorOf(InferenceEngine.Props(shards, Options, Gpt2Tokenizer.Default, clock: _clock), "engine");
        TestProbe client = CreateTestProbe();
        engine.Tell(new Generate(_prompt, Sampling), client);

        Assert.True(stuck.Entered.Wait(TimeSpan.FromSeconds(60)), "rank 1 entered the decode it hangs in");
        AwaitStatus(engine, s => s.ShardsAwaited == 2);
        _clock.Now += Options.StepTimeout;
        Scheduler.Advance(Options.StepTimeout);
        // The abort wakes rank 0 out of its collective; rank 1 stays inside its model.
        AwaitStatus(engine, s => s.ShardsAwaited == 1);
        Scheduler.Advance(Options.AbortGrace);
        Assert.Equal(1, replaced.ExpectMsg<ShardReplaced>(TimeSpan.FromSeconds(30)).Rank);

        (List<int> tokens, Completed completed) = Collect(client);
        Assert.Equal(FinishReason.Length, completed.FinishReason);
        Assert.Equal(expected, tokens);

        // What remained: the stuck shard's thread and model, until its model returns. Then its next
        // collective is on the old, aborted group (it meets nobody), and its model is freed.
        Assert.False(stuck.Disposed.IsSet);
        stuck.Release();
        Assert.True(stuck.Disposed.Wait(TimeSpan.FromSeconds(60)), "the replaced shard freed its model once it returned");
        replaced.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_shard_count_that_does_not_divide_the_heads_is_refused()
    {
        var error = Assert.Throws<FloverException>(() => EngineSetup.Shards(new EngineOptions(1, TensorParallel: 5), _weights, new Gpt2ModelOptions(Slots, Capacity)));

        Assert.Contains("cannot be split evenly over 5", error.Message, StringComparison.Ordinal);
    }

    public new void Dispose()
    {
        _weights.Dispose();
        base.Dispose();
    }

    private int[] Uninterrupted(int shards)
    {
        // The same shards, driven one call at a time outside the decode loop, uninterrupted.
        using ShardedModelClient reference = ShardedModelClient.Start(Sys, EngineSetup.Shards(new EngineOptions(shards, TensorParallel: shards), _weights, new Gpt2ModelOptions(Slots, Capacity)), Slots);
        return [.. SequenceGenerator.Generate(reference, 0, _prompt, Sampling, _weights.Config.EosTokenId).Tokens.Select(t => t.TokenId)];
    }

    private IActorRef Shard(int rank) =>
        Sys.ActorSelection($"/user/engine/decode-loop/shard-{rank}-*").ResolveOne(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();

    private EngineStatus AwaitStatus(IActorRef engine, Func<EngineStatus, bool> condition)
    {
        TestProbe probe = CreateTestProbe();
        DateTime giveUp = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            engine.Tell(ProbeEngine.Instance, probe);
            EngineStatus status = probe.ExpectMsg<EngineStatus>(TimeSpan.FromSeconds(30));
            if (condition(status))
            {
                return status;
            }

            Assert.True(DateTime.UtcNow < giveUp, $"the engine never reached the expected state; last status: {status}");
            probe.ExpectNoMsg(TimeSpan.FromMilliseconds(20));
        }
    }

    private (List<int> Tokens, Completed Completed) Collect(TestProbe? from = null)
    {
        var tokens = new List<int>();
        object message;
        while ((message = (from ?? (TestKitBase)this).ReceiveOne(TimeSpan.FromSeconds(60))!) is Token token)
        {
            tokens.Add(token.TokenId);
        }

        return (tokens, Assert.IsType<Completed>(message));
    }

    /// <summary>A real shard (its child) that stops passing steps on after <c>answered</c> of them: from then on it never answers.</summary>
    private sealed class FallsSilent : ReceiveActor
    {
        private int _steps;

        public FallsSilent(Props shard, int answered, ManualResetEventSlim silent)
        {
            IActorRef inner = Context.ActorOf(shard, "inner");
            Receive<ShardStep>(step =>
            {
                if (++_steps <= answered)
                {
                    inner.Forward(step);
                }
                else
                {
                    silent.Set();
                }
            });
            // The loop knows this actor as the shard: readiness is reported in its name.
            Receive<ShardReadyQuery>(query => inner.Tell(query, Self));
            Receive<ShardReady>(ready => Context.Parent.Tell(ready, Self));
            ReceiveAny(message => inner.Forward(message));
        }
    }

    /// <summary>A shard's model that hangs inside one decode until released, and says when it is disposed.</summary>
    private sealed class StuckModel(IModel inner, StuckModel.Control control, int atDecode) : DelegatingModel(inner)
    {
        private int _decodes;

        public override ModelLogits Decode(ReadOnlySpan<DecodeRow> rows)
        {
            if (++_decodes == atDecode)
            {
                control.Entered.Set();
                control.Gate.Wait();
            }

            return Inner.Decode(rows);
        }

        public override void Dispose()
        {
            Inner.Dispose();
            control.Disposed.Set();
        }

        /// <summary>The test's side: when the model hung, releasing it, and its disposal.</summary>
        public sealed class Control : IDisposable
        {
            public ManualResetEventSlim Entered { get; } = new();

            public ManualResetEventSlim Gate { get; } = new();

            public ManualResetEventSlim Disposed { get; } = new();

            public void Release() => Gate.Set();

            public void Dispose()
            {
                // Never leave a shard's thread hanging past the test.
                Gate.Set();
            }
        }
    }
}
