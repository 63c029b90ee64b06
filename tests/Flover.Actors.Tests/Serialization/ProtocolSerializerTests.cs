using Akka.Serialization;
using Akka.TestKit.Xunit2;
using Flover.Actors.Cluster;
using Flover.Actors.Inference;
using Flover.Actors.Inference.Sharding;
using Flover.Actors.Inference.Sharding.Collectives;
using Flover.Actors.Serialization;
using Flover.Gpu.Models;
using Flover.Gpu.Sampling;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Serialization;

/// <summary>
/// The wire format: Akka picks Flover's serializer for every message that may cross nodes, each
/// round-trips, golden bytes pin the format (a change that breaks them must raise the version), a
/// newer version or a truncated payload is refused, and logits travel as raw floats.
/// </summary>
public sealed class ProtocolSerializerTests : TestKit
{
    private readonly ITestOutputHelper _output;

    public ProtocolSerializerTests(ITestOutputHelper output)
        : base(AkkaTestConfig.Default, output: output)
    {
        _output = output;
    }

    private static readonly Generate SampleGenerate = new([464, 6801], new SamplingParameters
    {
        Temperature = 0.7f,
        TopK = 40,
        TopP = 0.9f,
        MaxTokens = 12,
        Seed = 42,
        Logprobs = 2,
        LogitBias = new Dictionary<int, float> { [50256] = float.NegativeInfinity },
    }, ["\n\n"], new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero))
    {
        CorrelationId = "req-1",
    };

    public static TheoryData<string, object> Messages => new()
    {
        { "Generate", SampleGenerate },
        { "Generate from text", Generate.FromText("Hello", new SamplingParameters { MaxTokens = 3 }, "t") },
        { "Generate continued", SampleGenerate with { ContinueFrom = [318, 257, 1332] } },
        { "Token", new Token(3, 318, " is", -0.25f, [new TokenLogprob(318, -0.25f), new TokenLogprob(373, -1.5f)]) { CorrelationId = "req-1" } },
        { "Completed", new Completed(FinishReason.StopSequence, new Usage(2, 5), "!", null) { CorrelationId = "req-1" } },
        { "Rejected", new Rejected("top-p must lie in (0, 1], not 1.5", RejectionCode.InvalidField) { CorrelationId = "req-2", Field = "top_p", Value = "1.5" } },
        { "Cancel", Cancel.Instance },
        { "ProbeEngine", ProbeEngine.Instance },
        { "EngineStatus", new EngineStatus(3, 1, 3, 5, TimeSpan.FromMilliseconds(12), 2, "shards are loading their models") },
        { "StartDraining", StartDraining.Instance },
        { "EngineDraining", EngineDraining.Instance },
        { "KvShuffled", new KvShuffled(2, 4096, TimeSpan.FromTicks(15), TimeSpan.FromTicks(250)) },
        { "ShardReplaced", new ShardReplaced(1, "shard 1 stopped during a step") },
        { "DeviceFaulted", new DeviceFaulted(0, "cuda:0: the device reported CudaException (an illegal memory access was encountered)") },
        { "ShardStep", new ShardStep(9, new ModelStep([new KvCopy(3, 1, 7)], [new PrefillPrompt(2, new[] { 5, 6, 7 }, 4, LogitsSelection.All)], [new DecodeRow(0, 11, 99)]) { Released = [4, 6] }) },
        { "ShardStepDone", new ShardStepDone(9, 0, new ModelStepResult(null, ModelLogits.FromRows(3, [1, 1], [0.5f, -1f, 2f, 3f, 4f, 5f])), TimeSpan.FromTicks(1000), TimeSpan.Zero) },
        { "ShardStep with device choices", new ShardStep(10, new ModelStep([], [], [new DecodeRow(0, 11, 99, 50257), new DecodeRow(3, 2, 1)])) },
        { "ShardStep with device sampling", new ShardStep(11, new ModelStep([], [], [new DecodeRow(0, 11, 99, 50257), new DecodeRow(3, 2, 1, 50257, new RowSampling(50257, 0.7f, 40, 0.9f, 0.25, new[] { new LogitEdit(7, LogitEditKinds.Repetition | LogitEditKinds.Bias, 1.2f, 0, -1.5f) })), new DecodeRow(5, 1, 2)])) },
        { "ShardStepDone with device choices", new ShardStepDone(10, 0, new ModelStepResult(null, ChosenLogits()), TimeSpan.FromTicks(1000), TimeSpan.Zero) },
        { "ShardStepDone with device sampling's logprobs", new ShardStepDone(11, 0, new ModelStepResult(null, ChosenLogits(withLogprobs: true)), TimeSpan.FromTicks(1000), TimeSpan.Zero) },
        { "ShardStepFailed", new ShardStepFailed(9, 1, "aborted by another shard's failure", true) },
        { "ShardStepFailed naming a lost rank", new ShardStepFailed(9, 0, "aborted by another shard's failure", true) { LostRank = 2 } },
        { "ShardDeviceFault", new ShardDeviceFault(9, 0, "cuda:0: the device reported CudaException (an illegal memory access was encountered)") },
        { "ShardReadyQuery", ShardReadyQuery.Instance },
        { "ShardReady", new ShardReady(1, 123456, Flover.Gpu.Checkpoints.TensorDType.F16) },
        { "DescribeEngine", DescribeEngine.Instance },
        { "EngineDescription", new EngineDescription(50257, 1024) },
        { "Tokenize", new Tokenize("Hello, world", "t1") },
        { "Tokenized", new Tokenized([15496, 11, 995], "t1") },
        { "Detokenize", new Detokenize([15496, 11, 995], "d1") },
        { "Detokenized", new Detokenized("Hello, world", "d1") },
        { "RegisterFrontend", RegisterFrontend.Instance },
        { "WorkerState", new WorkerState(Tiny, 3, 1, 3, 5, Serving: true) },
        { "ListWorkers", ListWorkers.Instance },
        { "WorkerList", new WorkerList([new WorkerLoad("akka.tcp://flover@127.0.0.1:4053", Tiny, 2, 0, 8), new WorkerLoad("akka.tcp://flover@127.0.0.1:4054", Tiny with { BatchInvariant = false, TensorParallel = 2 }, 0, 1, 4, Serving: false)]) },
        { "OpenShard", new OpenShard("akka.tcp://flover@127.0.0.1:4053/user/engine/decode-loop#1234", 2, 1, 3, 8) },
        { "ShardListening", new ShardListening(2, 1, "10.0.0.2", 41234) },
        { "JoinShardMesh", new JoinShardMesh(2, 1, ["10.0.0.1:40001", "10.0.0.2:41234", "[::1]:40003"]) },
        { "ShardOpened", new ShardOpened(2, 1) },
        { "ShardOpenFailed", new ShardOpenFailed(2, 1, "akka.tcp://flover@10.0.0.2:4053's shard host is full (1 of 1 ranks)") },
        { "CollectiveChunk", new CollectiveChunk(7, 2, 65536, [0x00, 0x00, 0xC0, 0x3F, 0x00, 0x00, 0x80, 0xBF]) },
    };

    private static readonly WorkerFingerprint Tiny = new("tiny", "preset:tiny", "f32", "f16", "cpu", 1);

    [Fact]
    public void A_worker_s_state_survives_the_trip_exactly()
    {
        var state = new WorkerState(Tiny with { BatchInvariant = false }, 3, 1, 3, 5, Serving: false);
        var serializer = (ProtocolSerializer)Sys.Serialization.FindSerializerFor(state);

        Assert.Equal(state, serializer.FromBinary(serializer.ToBinary(state), serializer.Manifest(state)));
        var list = (WorkerList)Messages.Single(m => (string)m[0] == "WorkerList")[1];
        Assert.Equal(list.Workers, ((WorkerList)serializer.FromBinary(serializer.ToBinary(list), "WL")).Workers);
    }

    [Fact]
    public void The_shard_hosts_placement_messages_survive_the_trip_exactly()
    {
        foreach (string name in (string[])["OpenShard", "ShardListening", "ShardOpened", "ShardOpenFailed"])
        {
            object message = Messages.Single(m => (string)m[0] == name)[1];
            var serializer = (ProtocolSerializer)Sys.Serialization.FindSerializerFor(message);
            Assert.Equal(message, serializer.FromBinary(serializer.ToBinary(message), serializer.Manifest(message)));
        }

        var join = (JoinShardMesh)Messages.Single(m => (string)m[0] == "JoinShardMesh")[1];
        var protocol = (ProtocolSerializer)Sys.Serialization.FindSerializerFor(join);
        var back = (JoinShardMesh)protocol.FromBinary(protocol.ToBinary(join), "HJ");
        Assert.Equal((join.Generation, join.Rank), (back.Generation, back.Rank));
        Assert.Equal(join.Endpoints, back.Endpoints);
    }

    [Theory]
    [MemberData(nameof(Messages))]
    public void Akka_uses_floverss_serializer_and_the_message_reads_back_to_the_same_bytes(string name, object message)
    {
        Serializer serializer = Sys.Serialization.FindSerializerFor(message);
        Assert.IsType<ProtocolSerializer>(serializer);
        string manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);

        byte[] bytes = serializer.ToBinary(message);
        object back = Sys.Serialization.Deserialize(bytes, serializer.Identifier, manifest);

        Assert.IsType(message.GetType(), back);
        Assert.Equal(bytes, serializer.ToBinary(back));
        // A continuation needs format version 2, device choices version 3, device sampling and a lost rank version 4; everything else keeps version 1's bytes.
        byte expectedVersion = name.Contains("device sampling", StringComparison.Ordinal) || name.Contains("lost rank", StringComparison.Ordinal) ? (byte)4
            : name.Contains("device choices", StringComparison.Ordinal) ? (byte)3
            : message is Generate { ContinueFrom.Count: > 0 } ? (byte)2
            : ProtocolSerializer.BaseVersion;
        Assert.Equal(expectedVersion, bytes[0]);
        _output.WriteLine($"{name}: {Convert.ToHexString(bytes)}");
    }

    /// <summary>Decode logits of two rows, the second chosen on the device (token 2): only its choice is meaningful.</summary>
    private static ModelLogits ChosenLogits(bool withLogprobs = false)
    {
        ModelLogits logits = ModelLogits.FromRows(3, [1, 1], [0.5f, -1f, 2f, 3f, 4f, 5f]);
        logits.SetChosen(1, 2);
        if (withLogprobs)
        {
            logits.SetChosenLogprobs(1, -0.25f, [new TokenLogprob(2, -0.25f), new TokenLogprob(0, -1.5f)]);
        }

        return logits;
    }

    [Fact]
    public void The_wire_format_of_generate_token_and_a_shard_result_is_pinned()
    {
        var serializer = (ProtocolSerializer)Sys.Serialization.FindSerializerFor(SampleGenerate);

        Assert.Equal(GoldenGenerate, Convert.ToHexString(serializer.ToBinary(SampleGenerate)));
        Assert.Equal(GoldenToken, Convert.ToHexString(serializer.ToBinary(Messages.Single(m => (string)m[0] == "Token")[1])));
        Assert.Equal(GoldenShardStepDone, Convert.ToHexString(serializer.ToBinary(Messages.Single(m => (string)m[0] == "ShardStepDone")[1])));
    }

    [Fact]
    public void A_decode_row_s_and_a_prompt_s_sampling_survive_the_trip_exactly_and_a_version_3_node_refuses_them()
    {
        var sampling = new RowSampling(300, 0.7f, 40, 0.9f, 0.123456789, new[] { new LogitEdit(7, LogitEditKinds.Repetition | LogitEditKinds.Subtract, 1.2f, 0.75f, 0), new LogitEdit(3, LogitEditKinds.Ban, 1f, 0, 0) }, Logprobs: 5);
        var step = new ShardStep(4, new ModelStep([], [new PrefillPrompt(3, new[] { 4, 5 }, 0, LogitsSelection.Last, sampling with { TopK = 7 }), new PrefillPrompt(4, new[] { 6 })], [new DecodeRow(1, 2, 3, 300, sampling), new DecodeRow(2, 5, 6, 300)]));
        var serializer = (ProtocolSerializer)Sys.Serialization.FindSerializerFor(step);
        byte[] bytes = serializer.ToBinary(step);

        var back = (ShardStep)serializer.FromBinary(bytes, Akka.Serialization.Serialization.ManifestFor(serializer, step));

        RowSampling read = back.Work.Decode[0].Sampling!;
        Assert.Equal((sampling.Candidates, sampling.Temperature, sampling.TopK, sampling.TopP, sampling.Draw, sampling.Logprobs), (read.Candidates, read.Temperature, read.TopK, read.TopP, read.Draw, read.Logprobs));
        Assert.Equal(sampling.Edits.ToArray(), read.Edits.ToArray());
        Assert.Equal(new DecodeRow(2, 5, 6, 300), back.Work.Decode[1]);
        Assert.Equal(7, back.Work.Prefill[0].Sampling!.TopK);
        Assert.Null(back.Work.Prefill[1].Sampling);
        Assert.Contains("format version 4", Assert.Throws<WireFormatException>(() => new WireReader(bytes, "S", 3)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sampled_row_s_logprobs_survive_the_trip_exactly()
    {
        var done = new ShardStepDone(11, 0, new ModelStepResult(null, ChosenLogits(withLogprobs: true)), TimeSpan.Zero, TimeSpan.Zero);
        var serializer = (ProtocolSerializer)Sys.Serialization.FindSerializerFor(done);

        var back = (ShardStepDone)serializer.FromBinary(serializer.ToBinary(done), Akka.Serialization.Serialization.ManifestFor(serializer, done));

        ModelLogits logits = back.Result!.Decode!;
        Assert.Null(logits.ChosenLogprobs(0));
        Assert.Equal(-0.25f, logits.ChosenLogprobs(1)!.Value.Logprob);
        Assert.Equal([new TokenLogprob(2, -0.25f), new TokenLogprob(0, -1.5f)], logits.ChosenLogprobs(1)!.Value.Top);
    }

    [Fact]
    public void A_field_survives_the_trip_exactly()
    {
        var serializer = (ProtocolSerializer)Sys.Serialization.FindSerializerFor(SampleGenerate);

        var back = (Generate)serializer.FromBinary(serializer.ToBinary(SampleGenerate), "G");

        Assert.Equal("req-1", back.CorrelationId);
        Assert.Equal([464, 6801], back.PromptTokenIds);
        Assert.Equal(["\n\n"], back.StopSequences!);
        Assert.Equal(SampleGenerate.Sampling with { LogitBias = null }, back.Sampling with { LogitBias = null });
        Assert.Equal(float.NegativeInfinity, back.Sampling.LogitBias![50256]);
        Assert.Equal(SampleGenerate.Deadline, back.Deadline);
        Assert.Empty(back.ContinueFrom);
    }

    [Fact]
    public void A_continuation_s_history_survives_the_trip_and_a_version_1_node_refuses_it_rather_than_restart_the_request()
    {
        var serializer = (ProtocolSerializer)Sys.Serialization.FindSerializerFor(SampleGenerate);
        Generate continued = SampleGenerate with { ContinueFrom = [318, 257, 1332] };

        byte[] bytes = serializer.ToBinary(continued);
        var back = (Generate)serializer.FromBinary(bytes, "G");

        Assert.Equal([318, 257, 1332], back.ContinueFrom);
        Assert.Equal([464, 6801], back.PromptTokenIds);
        Assert.Equal(SampleGenerate.Deadline, back.Deadline);
        // The bytes before the history are version 1's: only the version byte and the appended ids differ.
        byte[] plain = serializer.ToBinary(SampleGenerate);
        Assert.Equal(plain[1..], bytes[1..plain.Length]);
        Assert.Contains("format version 2", Assert.Throws<WireFormatException>(() => new WireReader(bytes, "G", ProtocolSerializer.BaseVersion)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_newer_format_version_or_a_truncated_payload_is_refused_in_one_line()
    {
        var serializer = (ProtocolSerializer)Sys.Serialization.FindSerializerFor(SampleGenerate);
        byte[] bytes = serializer.ToBinary(SampleGenerate);
        byte[] newer = [(byte)(ProtocolSerializer.Version + 1), .. bytes[1..]];

        Assert.Contains($"format version {ProtocolSerializer.Version + 1}", Assert.Throws<WireFormatException>(() => serializer.FromBinary(newer, "G")).Message, StringComparison.Ordinal);
        Assert.Contains("ends after", Assert.Throws<WireFormatException>(() => serializer.FromBinary(bytes[..^3], "G")).Message, StringComparison.Ordinal);
        Assert.Contains("unknown manifest", Assert.Throws<WireFormatException>(() => serializer.FromBinary(bytes, "Q")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_gpt2_logits_row_travels_as_raw_floats()
    {
        float[] row = [.. Enumerable.Range(0, 50257).Select(i => i * 0.001f)];
        var done = new ShardStepDone(1, 0, new ModelStepResult(null, ModelLogits.FromRows(50257, [1], row)), TimeSpan.Zero, TimeSpan.Zero);
        var serializer = (ProtocolSerializer)Sys.Serialization.FindSerializerFor(done);

        byte[] bytes = serializer.ToBinary(done);

        Assert.InRange(bytes.Length, 50257 * 4, (50257 * 4) + 64);
        var back = (ShardStepDone)serializer.FromBinary(bytes, "SD");
        Assert.Equal(row, back.Result!.Decode!.Row(0).ToArray());
    }

    [Fact]
    public void A_collective_chunk_is_pinned_and_its_floats_come_back_as_the_same_bytes()
    {
        var chunk = (CollectiveChunk)Messages.Single(m => (string)m[0] == "CollectiveChunk")[1];
        var serializer = (ProtocolSerializer)Sys.Serialization.FindSerializerFor(chunk);

        byte[] bytes = serializer.ToBinary(chunk);
        var back = (CollectiveChunk)serializer.FromBinary(bytes, serializer.Manifest(chunk));

        Assert.Equal(GoldenCollectiveChunk, Convert.ToHexString(bytes));
        Assert.Equal((7L, 2, 65536L), (back.Sequence, back.Source, back.Offset));
        Assert.Equal([1.5f, -1f], System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(back.Payload).ToArray());
    }

    // Format version 1 (a new manifest, CC: no other message's bytes changed). Sequence, source, byte offset, then the payload's length and bytes.
    private const string GoldenCollectiveChunk = "01" + "0700000000000000" + "02000000" + "0000010000000000" + "08000000" + "0000C03F000080BF";

    // Format version 1. Little-endian; strings are a 4-byte length and UTF-8 (−1 for null).
    private const string GoldenGenerate = "01050000007265712D3102000000D0010000911A0000FFFFFFFF3333333F280000006666663F0000803F0000000000000000000000000C000000002A0000000000000001020000000100000050C40000000080FF01000000020000000A0A0100A0621FFE51DF08";
    private const string GoldenToken = "01050000007265712D31030000003E0100000300000020697301000080BE020000003E010000000080BE750100000000C0BF";
    private const string GoldenShardStepDone = "01090000000000000000000000E803000000000000000000000000000001000103000000020000000100000001000000060000000000003F000080BF0000004000004040000080400000A040";
}
