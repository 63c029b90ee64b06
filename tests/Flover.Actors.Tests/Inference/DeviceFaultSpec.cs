using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Flover.Actors.Inference;
using Flover.Actors.Inference.Sharding;
using Flover.Gpu;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Memory;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.Gpu.Sampling;
using Flover.Gpu.Tests.Models;
using Flover.Gpu.Tokenization;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Inference;

/// <summary>
/// Device faults in the middle of serving: the faulted shard's accelerator and model are created
/// again and the live requests re-admitted from their history; a request whose own data faults the
/// device ends with Error after max-step-failures while the one beside it goes on; a rebuild that
/// fails stops the engine. Virtual time: no step deadline fires.
/// </summary>
[Trait("Category", "Slow")]
public sealed class DeviceFaultSpec : TestKit, IDisposable
{
    private const int Slots = 4;
    private const int Capacity = 32;
    private readonly NativeModelWeights _weights = TinyGpt2.Weights(TinyGpt2.Config(embedding: 28, heads: 4), TensorDType.F32, seed: 3);
    private readonly Gpt2ModelOptions _options = new(SlotCount: Slots, SlotCapacity: Capacity);
    private int _loads;

    public DeviceFaultSpec(ITestOutputHelper output)
        : base(AkkaTestConfig.VirtualTime, output: output)
    {
    }

    private DecodeLoopOptions LoopOptions => new(8, 512, MemoryMode.Indexed, _weights.Config.EosTokenId, MaxConsecutiveFailures: 3) { StepTimeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public void A_device_fault_on_ilgpus_accelerator_mid_serving_rebuilds_it_and_every_live_request_gets_exactly_its_tokens_alone()
    {
        (int[] Prompt, SamplingParameters Sampling)[] requests =
        [
            ([5, 17, 2, 90, 33], new SamplingParameters { Temperature = 0, MaxTokens = 8, IgnoreEos = true }),
            ([7, 8, 9], new SamplingParameters { Temperature = 0.9f, Seed = 5, MaxTokens = 8, IgnoreEos = true }),
            ([100, 200, 42, 11], new SamplingParameters { Temperature = 0.7f, TopK = 20, Seed = 9, MaxTokens = 7, IgnoreEos = true }),
        ];
        int[][] expected = [.. requests.Select(r => IlgpuAlone(r.Prompt, r.Sampling))];
        // The first accelerator faults inside its third decode; its rebuild never does.
        ShardedModel shards = Shards((slots, load) => Ilgpu(slots, faultAtDecode: load == 1 ? 3 : 0));
        TestProbe events = CreateTestProbe();
        Sys.EventStream.Subscribe(events.Ref, typeof(DeviceFaulted));
        Sys.EventStream.Subscribe(events.Ref, typeof(ShardReplaced));
        IActorRef engine = Sys.ActorOf(InferenceEngine.Props(shards, LoopOptions, Gpt2Tokenizer.Default), "engine");

        TestProbe[] clients = [.. requests.Select(r =>
        {
            TestProbe client = CreateTestProbe();
            engine.Tell(new Generate(r.Prompt, r.Sampling), client);
            return client;
        })];

        for (int i = 0; i < requests.Length; i++)
        {
            (List<int> tokens, Completed completed) = Collect(clients[i]);
            Assert.Equal(FinishReason.Length, completed.FinishReason);
            Assert.Equal(expected[i], tokens);
        }

        DeviceFaulted fault = events.ExpectMsg<DeviceFaulted>(TimeSpan.FromSeconds(10));
        Assert.Equal(0, fault.Rank);
        Assert.Contains("CUDA_ERROR_ILLEGAL_ADDRESS", fault.Error, StringComparison.Ordinal);
        Assert.Contains("device faulted", events.ExpectMsg<ShardReplaced>(TimeSpan.FromSeconds(10)).Reason, StringComparison.Ordinal);
        Assert.Equal(2, Volatile.Read(ref _loads));
        Assert.Null(AwaitStatus(engine, s => s.Running == 0 && s.StepAge is null).Stalled);
    }

    [Fact]
    public void A_request_that_faults_the_device_every_time_ends_with_Error_after_K_while_the_one_beside_it_completes_exactly()
    {
        const int Poison = 250;
        int[] healthyPrompt = [5, 17, 2, 90, 33];
        var sampling = new SamplingParameters { Temperature = 0.9f, Seed = 21, MaxTokens = 8, IgnoreEos = true };
        int[] expected;
        using (var alone = Gpt2Model.Load(new EngineOptions(1), _weights, _options))
        {
            expected = [.. SequenceGenerator.Generate(alone, 0, healthyPrompt, sampling, _weights.Config.EosTokenId).Tokens.Select(t => t.TokenId)];
        }

        ShardedModel shards = Shards((slots, _) => new DeviceFaultOnTokenModel(Gpt2Model.Load(new EngineOptions(1), _weights, _options with { SlotCount = slots }), Poison));
        TestProbe faults = CreateTestProbe();
        Sys.EventStream.Subscribe(faults.Ref, typeof(DeviceFaulted));
        IActorRef engine = Sys.ActorOf(InferenceEngine.Props(shards, LoopOptions, Gpt2Tokenizer.Default), "engine");
        TestProbe healthy = CreateTestProbe();
        TestProbe poisoned = CreateTestProbe();

        engine.Tell(new Generate(healthyPrompt, sampling), healthy);
        engine.Tell(new Generate([40, Poison, 7], sampling), poisoned);

        (List<int> bad, Completed failed) = Collect(poisoned);
        Assert.Empty(bad);
        Assert.Equal(FinishReason.Error, failed.FinishReason);
        Assert.Contains("3 times in a row", failed.Error, StringComparison.Ordinal);
        Assert.Contains($"token {Poison}", failed.Error, StringComparison.Ordinal);
        (List<int> tokens, Completed completed) = Collect(healthy);
        Assert.Equal(FinishReason.Length, completed.FinishReason);
        Assert.Equal(expected, tokens);
        // One rebuild per fault: the first load and three more.
        for (int i = 0; i < 3; i++)
        {
            faults.ExpectMsg<DeviceFaulted>(TimeSpan.FromSeconds(10));
        }

        Assert.Equal(4, Volatile.Read(ref _loads));
    }

    [Fact]
    public void A_rebuild_that_fails_ends_every_request_with_Error_and_the_engine_stays_not_ready_saying_why()
    {
        // The first accelerator faults inside its second decode; creating it again fails.
        ShardedModel shards = Shards((slots, load) => load == 1 ? Ilgpu(slots, faultAtDecode: 2) : throw new FloverException("cuda:0 is gone (injected)"));
        TestProbe log = CreateTestProbe();
        Sys.EventStream.Subscribe(log.Ref, typeof(Akka.Event.Error));
        IActorRef engine = Sys.ActorOf(InferenceEngine.Props(shards, LoopOptions, Gpt2Tokenizer.Default), "engine");
        var sampling = new SamplingParameters { Temperature = 0, MaxTokens = 8, IgnoreEos = true };
        TestProbe first = CreateTestProbe();
        TestProbe second = CreateTestProbe();

        engine.Tell(new Generate([5, 17, 2], sampling), first);
        engine.Tell(new Generate([9, 9, 9, 9], sampling), second);

        foreach (TestProbe client in new[] { first, second })
        {
            Completed completed = Collect(client).Completed;
            Assert.Equal(FinishReason.Error, completed.FinishReason);
            Assert.Contains("could not be created again after a device fault (cuda:0 is gone (injected))", completed.Error, StringComparison.Ordinal);
        }

        // /ready answers 503 while Stalled is set (OperationsEndpoints); new requests are refused.
        Assert.Contains("the engine cannot serve", AwaitStatus(engine, s => s.Stalled is not null).Stalled, StringComparison.Ordinal);
        TestProbe late = CreateTestProbe();
        engine.Tell(new Generate([1, 2], sampling), late);
        Assert.Equal(RejectionCode.EngineUnavailable, late.ExpectMsg<Rejected>(TimeSpan.FromSeconds(10)).Code);
        log.FishForMessage<Akka.Event.Error>(e => e.Message.ToString()!.Contains("could not be created again", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void A_device_fault_on_one_tensor_parallel_shard_aborts_the_other_rebuilds_only_it_and_the_request_gets_its_uninterrupted_tokens()
    {
        int[] prompt = [5, 17, 2, 90, 33];
        var sampling = new SamplingParameters { Temperature = 0.9f, Seed = 7, MaxTokens = 8, IgnoreEos = true };
        ShardedModel real = EngineSetup.Shards(new EngineOptions(2, TensorParallel: 2), _weights, _options);
        int[] expected;
        using (ShardedModelClient reference = ShardedModelClient.Start(Sys, real, Slots))
        {
            expected = [.. SequenceGenerator.Generate(reference, 0, prompt, sampling, _weights.Config.EosTokenId).Tokens.Select(t => t.TokenId)];
        }

        // Rank 1's first model faults inside its third decode; rank 0 is then waiting in a collective.
        int rank1Loads = 0;
        var shards = new ShardedModel(real.Shape, 2, (slots, communicator) =>
        {
            IModel model = real.Create(slots, communicator);
            return communicator!.Rank == 1 && Interlocked.Increment(ref rank1Loads) == 1 ? new DeviceFaultAtDecodeModel(model, 3) : model;
        }, real.Device);
        TestProbe events = CreateTestProbe();
        Sys.EventStream.Subscribe(events.Ref, typeof(DeviceFaulted));
        Sys.EventStream.Subscribe(events.Ref, typeof(ShardReplaced));
        IActorRef engine = Sys.ActorOf(InferenceEngine.Props(shards, LoopOptions, Gpt2Tokenizer.Default), "engine");
        TestProbe client = CreateTestProbe();

        engine.Tell(new Generate(prompt, sampling), client);

        (List<int> tokens, Completed completed) = Collect(client);
        Assert.Equal(FinishReason.Length, completed.FinishReason);
        Assert.Equal(expected, tokens);
        Assert.Equal(1, events.ExpectMsg<DeviceFaulted>(TimeSpan.FromSeconds(10)).Rank);
        Assert.Equal(1, events.ExpectMsg<ShardReplaced>(TimeSpan.FromSeconds(10)).Rank);
        events.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Assert.Equal(2, Volatile.Read(ref rank1Loads));
    }

    [Fact]
    public void Outside_the_decode_loop_a_device_fault_fails_the_call_and_every_later_one_naming_the_fault()
    {
        ShardedModel shards = Shards((slots, _) => new DeviceFaultAtDecodeModel(Gpt2Model.Load(new EngineOptions(1), _weights, _options with { SlotCount = slots }), 1));
        using ShardedModelClient client = ShardedModelClient.Start(Sys, shards, Slots);
        client.Prefill([new PrefillPrompt(0, new[] { 5, 17, 2 })]);

        FloverException fault = Assert.Throws<FloverException>(() => client.Decode([new DecodeRow(0, 3, 9)]));
        Assert.Contains("device faulted: test device: an illegal memory access", fault.Message, StringComparison.Ordinal);
        Assert.Equal(fault.Message, Assert.Throws<FloverException>(() => client.Decode([new DecodeRow(0, 3, 9)])).Message);
    }

    public new void Dispose()
    {
        _weights.Dispose();
        base.Dispose();
    }

    /// <summary>One shard whose model <paramref name="create"/> makes, told which load (1-based) it is.</summary>
    private ShardedModel Shards(Func<int, int, IModel> create)
    {
        var shape = new ModelShape(_weights.Config.VocabularySize, Slots, Capacity, _weights.Config.KvBytesPerSlot(Capacity));
        return new ShardedModel(shape, 1, (slots, _) => create(slots, Interlocked.Increment(ref _loads)), AcceleratorKind.IlgpuCpu);
    }

    private FaultingIlgpuModel Ilgpu(int slots, int faultAtDecode)
    {
        IlgpuAccelerator accelerator = IlgpuDevices.OpenCpuOracle();
        return new FaultingIlgpuModel(new Gpt2Model(accelerator, _weights, _options with { SlotCount = slots }), accelerator, faultAtDecode);
    }

    private int[] IlgpuAlone(int[] prompt, SamplingParameters sampling)
    {
        using FaultingIlgpuModel model = Ilgpu(Slots, faultAtDecode: 0);
        return [.. SequenceGenerator.Generate(model, 0, prompt, sampling, _weights.Config.EosTokenId).Tokens.Select(t => t.TokenId)];
    }

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
}
