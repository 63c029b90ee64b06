using Flover.Actors.Inference.Sharding;

namespace Flover.Actors.Serialization;

/// <summary>The shard hosts' placement protocol on the wire (new manifests in format version 1: no existing bytes change).</summary>
public sealed partial class ProtocolSerializer
{
    private static void WriteHostMessage(WireWriter w, object message)
    {
        switch (message)
        {
            case OpenShard m:
                w.String(m.Owner);
                w.Long(m.Generation);
                w.Int(m.Rank);
                w.Int(m.Size);
                w.Int(m.Slots);
                break;
            case ShardListening m:
                w.Long(m.Generation);
                w.Int(m.Rank);
                w.String(m.Host);
                w.Int(m.Port);
                break;
            case JoinShardMesh m:
                w.Long(m.Generation);
                w.Int(m.Rank);
                w.Strings(m.Endpoints);
                break;
            case ShardOpened m:
                w.Long(m.Generation);
                w.Int(m.Rank);
                break;
            case ShardOpenFailed m:
                w.Long(m.Generation);
                w.Int(m.Rank);
                w.String(m.Reason);
                break;
        }
    }

    private static object ReadHostMessage(WireReader r, string manifest) => manifest switch
    {
        "HO" => new OpenShard(r.String()!, r.Long(), r.Int(), r.Int(), r.Int()),
        "HL" => new ShardListening(r.Long(), r.Int(), r.String()!, r.Int()),
        "HJ" => new JoinShardMesh(r.Long(), r.Int(), r.Strings() ?? []),
        "HD" => new ShardOpened(r.Long(), r.Int()),
        _ => new ShardOpenFailed(r.Long(), r.Int(), r.String()!),
    };
}
