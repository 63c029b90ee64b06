using Akka.Actor;
using Akka.Serialization;
using Flover.Actors.Cluster;
using Flover.Actors.Inference;
using Flover.Actors.Inference.Sharding;
using Flover.Actors.Inference.Sharding.Collectives;

namespace Flover.Actors.Serialization;

/// <summary>
/// Flover's compact binary wire format for every message that may cross nodes: the public request
/// protocol (<see cref="Generate"/>, <see cref="Token"/>, <see cref="Completed"/>,
/// <see cref="Rejected"/>, <see cref="Cancel"/>, probes, draining), the engine's events, and the
/// tensor-parallel shard protocol (step plans and results, whose logits travel as raw floats). Each
/// payload starts with a format version byte; a node reads every version up to its own
/// (<see cref="Version"/>) and refuses newer ones with a <see cref="WireFormatException"/>. The
/// bytes are pinned by golden tests: a change that breaks them must raise the version. Registered in
/// reference.conf (<c>akka.actor.serializers.flover</c>), so Akka never falls back to its JSON
/// serializer for these messages.
/// </summary>
public sealed partial class ProtocolSerializer : SerializerWithStringManifest
{
    /// <summary>The serializer's identifier in <c>akka.actor.serialization-identifiers</c>.</summary>
    public const int Id = 7413;

    /// <summary>
    /// The newest format version: versions up to it are read. Version 2 added
    /// <see cref="Generate.ContinueFrom"/>, appended to a Generate's fields; only a Generate that
    /// carries a history is written in version 2, every other message (and a new request) still in
    /// version 1 with unchanged bytes, so a version-1 node reads them all but refuses a
    /// continuation, which it would otherwise start from scratch and repeat tokens. Version 3 added
    /// device choices (<see cref="Flover.Gpu.Models.DecodeRow.ChooseAmong"/>, <see cref="Flover.Gpu.Models.ModelLogits.ChosenOnDevice"/>):
    /// only a shard step or step result that carries one is written in version 3, appended after
    /// the fields it extends. Version 4 added a decode row's sampling on the device
    /// (<see cref="Flover.Gpu.Models.DecodeRow.Sampling"/>) and the log-probabilities such a row brings back
    /// (<see cref="Flover.Gpu.Models.ModelLogits.ChosenLogprobs"/>): only a shard step with a sampled row, or a
    /// result with such log-probabilities, is written in version 4, appended after the choices; and
    /// <see cref="ShardStepFailed.LostRank"/>, appended: only a failure that names a lost rank is written in version 4.
    /// </summary>
    public const byte Version = 4;

    /// <summary>The format version of every message but a continued <see cref="Generate"/> (see <see cref="Version"/>).</summary>
    public const byte BaseVersion = 1;

    /// <summary>Creates the serializer (Akka does, from the configuration).</summary>
    public ProtocolSerializer(ExtendedActorSystem system)
        : base(system)
    {
    }

    /// <summary>Every message type this serializer writes.</summary>
    public static IReadOnlyList<Type> MessageTypes { get; } =
    [
        typeof(Generate), typeof(Token), typeof(Completed), typeof(Rejected), typeof(Cancel), typeof(ProbeEngine), typeof(EngineStatus),
        typeof(StartDraining), typeof(EngineDraining), typeof(KvShuffled), typeof(ShardReplaced), typeof(DeviceFaulted),
        typeof(DescribeEngine), typeof(EngineDescription), typeof(Tokenize), typeof(Tokenized), typeof(Detokenize), typeof(Detokenized),
        typeof(ShardStep), typeof(ShardStepDone), typeof(ShardStepFailed), typeof(ShardDeviceFault), typeof(ShardReadyQuery), typeof(ShardReady),
        typeof(RegisterFrontend), typeof(WorkerState), typeof(ListWorkers), typeof(WorkerList),
        typeof(OpenShard), typeof(ShardListening), typeof(JoinShardMesh), typeof(ShardOpened), typeof(ShardOpenFailed),
        typeof(CollectiveChunk),
    ];

    /// <inheritdoc />
    public override int Identifier => Id;

    /// <inheritdoc />
    public override string Manifest(object o) => o switch
    {
        Generate => "G",
        Token => "T",
        Completed => "C",
        Rejected => "R",
        Cancel => "X",
        ProbeEngine => "P",
        EngineStatus => "S",
        StartDraining => "D",
        EngineDraining => "DD",
        KvShuffled => "KS",
        ShardReplaced => "SR",
        DeviceFaulted => "DF",
        DescribeEngine => "DE",
        EngineDescription => "ED",
        Tokenize => "TK",
        Tokenized => "TD",
        Detokenize => "DT",
        Detokenized => "DX",
        ShardStep => "SS",
        ShardStepDone => "SD",
        ShardStepFailed => "SF",
        ShardDeviceFault => "SX",
        ShardReadyQuery => "SQ",
        ShardReady => "SY",
        RegisterFrontend => "WR",
        WorkerState => "WS",
        ListWorkers => "WQ",
        WorkerList => "WL",
        OpenShard => "HO",
        ShardListening => "HL",
        JoinShardMesh => "HJ",
        ShardOpened => "HD",
        ShardOpenFailed => "HF",
        CollectiveChunk => "CC",
        _ => throw new ArgumentException($"{o.GetType()} is not a Flover protocol message.", nameof(o)),
    };

    /// <summary>The oldest format version that holds <paramref name="obj"/>, so older nodes read whatever they can.</summary>
    private static byte FormatVersionOf(object obj) => obj switch
    {
        ShardStepFailed { LostRank: not null } => 4,
        ShardStep m when CarriesSampling(m) => 4,
        ShardStepDone { Result: { } result } when CarriesLogprobs(result) => 4,
        ShardStep m when CarriesChoices(m) => 3,
        ShardStepDone { Result: { } result } when CarriesChoices(result) => 3,
        Generate { ContinueFrom.Count: > 0 } => 2,
        _ => BaseVersion,
    };

    /// <inheritdoc />
    public override byte[] ToBinary(object obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        using var w = new WireWriter(FormatVersionOf(obj));
        switch (obj)
        {
            case Generate m: WriteGenerate(w, m); break;
            case Token m: WriteToken(w, m); break;
            case Completed m: WriteCompleted(w, m); break;
            case Rejected m: WriteRejected(w, m); break;
            case Cancel or ProbeEngine or StartDraining or EngineDraining or ShardReadyQuery or DescribeEngine or RegisterFrontend or ListWorkers: break;
            case WorkerState m: WriteWorkerState(w, m); break;
            case WorkerList m: WriteWorkerList(w, m); break;
            case OpenShard or ShardListening or JoinShardMesh or ShardOpened or ShardOpenFailed: WriteHostMessage(w, obj); break;
            case CollectiveChunk m:
                // A new manifest in format version 1: no existing message's bytes change.
                w.Long(m.Sequence);
                w.Int(m.Source);
                w.Long(m.Offset);
                w.Bytes(m.Payload);
                break;
            case EngineDescription m:
                // The tokenizer object stays on its node; the remote side tokenizes with Tokenize.
                w.Int(m.VocabularySize);
                w.Int(m.ContextLength);
                break;
            case Tokenize m:
                w.String(m.Text);
                w.String(m.CorrelationId);
                break;
            case Tokenized m:
                w.Ints([.. m.TokenIds]);
                w.String(m.CorrelationId);
                break;
            case Detokenize m:
                w.Ints([.. m.TokenIds]);
                w.String(m.CorrelationId);
                break;
            case Detokenized m:
                w.String(m.Text);
                w.String(m.CorrelationId);
                break;
            case EngineStatus m: WriteStatus(w, m); break;
            case KvShuffled m:
                w.Int(m.Moves);
                w.Long(m.Bytes);
                w.Long(m.PlanningTime.Ticks);
                w.Long(m.CopyTime.Ticks);
                break;
            case ShardReplaced m:
                w.Int(m.Rank);
                w.String(m.Reason);
                break;
            case DeviceFaulted m:
                w.Int(m.Rank);
                w.String(m.Error);
                break;
            case ShardStep m: WriteShardStep(w, m); break;
            case ShardStepDone m: WriteShardStepDone(w, m); break;
            case ShardStepFailed m:
                w.Long(m.Step);
                w.Int(m.Rank);
                w.String(m.Error);
                w.Bool(m.Aborted);
                if (m.LostRank is { } lost)
                {
                    // Version 4 (see FormatVersionOf): appended, so a failure without it keeps version 1's bytes.
                    w.Int(lost);
                }

                break;
            case ShardDeviceFault m:
                w.Long(m.Step);
                w.Int(m.Rank);
                w.String(m.Error);
                break;
            case ShardReady m:
                w.Int(m.Rank);
                w.Long(m.WeightBytes);
                w.NullableInt(m.WeightDType is { } dtype ? (int)dtype : null);
                break;
            default: throw new ArgumentException($"{obj.GetType()} is not a Flover protocol message.", nameof(obj));
        }

        return w.ToArray();
    }

    /// <inheritdoc />
    public override object FromBinary(byte[] bytes, string manifest)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var r = new WireReader(bytes, manifest, Version);
        return manifest switch
        {
            "G" => ReadGenerate(r),
            "T" => ReadToken(r),
            "C" => ReadCompleted(r),
            "R" => ReadRejected(r),
            "X" => Cancel.Instance,
            "P" => ProbeEngine.Instance,
            "S" => ReadStatus(r),
            "D" => StartDraining.Instance,
            "DD" => EngineDraining.Instance,
            "KS" => new KvShuffled(r.Int(), r.Long(), TimeSpan.FromTicks(r.Long()), TimeSpan.FromTicks(r.Long())),
            "SR" => new ShardReplaced(r.Int(), r.String()!),
            "DF" => new DeviceFaulted(r.Int(), r.String()!),
            "DE" => DescribeEngine.Instance,
            "ED" => new EngineDescription(r.Int(), r.Int()),
            "TK" => new Tokenize(r.String()!, r.String() ?? string.Empty),
            "TD" => new Tokenized(r.Ints(), r.String() ?? string.Empty),
            "DT" => new Detokenize(r.Ints(), r.String() ?? string.Empty),
            "DX" => new Detokenized(r.String()!, r.String() ?? string.Empty),
            "SS" => ReadShardStep(r),
            "SD" => ReadShardStepDone(r),
            "SF" => new ShardStepFailed(r.Long(), r.Int(), r.String()!, r.Bool()) { LostRank = r.Version >= 4 ? r.Int() : null },
            "SX" => new ShardDeviceFault(r.Long(), r.Int(), r.String()!),
            "SQ" => ShardReadyQuery.Instance,
            "WR" => RegisterFrontend.Instance,
            "WS" => ReadWorkerState(r),
            "WQ" => ListWorkers.Instance,
            "WL" => ReadWorkerList(r),
            "HO" or "HL" or "HJ" or "HD" or "HF" => ReadHostMessage(r, manifest),
            "CC" => new CollectiveChunk(r.Long(), r.Int(), r.Long(), r.Bytes()),
            "SY" => new ShardReady(r.Int(), r.Long(), r.NullableInt() is int dtype ? (Gpu.Checkpoints.TensorDType)dtype : null),
            _ => throw new WireFormatException($"unknown manifest '{manifest}'"),
        };
    }
}
