using Flover.Actors.Cluster;

namespace Flover.Actors.Serialization;

/// <summary>The cluster's messages on the wire: a worker's state and the frontends' queries (new manifests in format version 1: no existing bytes change).</summary>
public sealed partial class ProtocolSerializer
{
    private static void WriteFingerprint(WireWriter w, WorkerFingerprint f)
    {
        w.String(f.Model);
        w.String(f.WeightsHash);
        w.String(f.WeightDType);
        w.String(f.KvDType);
        w.String(f.Device);
        w.Int(f.TensorParallel);
        w.Bool(f.BatchInvariant);
    }

    private static WorkerFingerprint ReadFingerprint(WireReader r) =>
        new(r.String()!, r.String()!, r.String()!, r.String()!, r.String()!, r.Int(), r.Bool());

    private static void WriteWorkerState(WireWriter w, WorkerState m)
    {
        WriteFingerprint(w, m.Fingerprint);
        w.Int(m.Running);
        w.Int(m.Waiting);
        w.Int(m.KvSlotsUsed);
        w.Int(m.KvSlotsFree);
        w.Bool(m.Serving);
    }

    private static WorkerState ReadWorkerState(WireReader r) =>
        new(ReadFingerprint(r), r.Int(), r.Int(), r.Int(), r.Int(), r.Bool());

    private static void WriteWorkerList(WireWriter w, WorkerList m)
    {
        w.Int(m.Workers.Count);
        foreach (WorkerLoad load in m.Workers)
        {
            w.String(load.Address);
            WriteFingerprint(w, load.Fingerprint);
            w.Int(load.Running);
            w.Int(load.Waiting);
            w.Int(load.KvSlots);
            w.Bool(load.Serving);
        }
    }

    private static WorkerList ReadWorkerList(WireReader r)
    {
        int count = r.Count(1);
        var workers = new WorkerLoad[count];
        for (int i = 0; i < count; i++)
        {
            workers[i] = new WorkerLoad(r.String()!, ReadFingerprint(r), r.Int(), r.Int(), r.Int(), r.Bool());
        }

        return new WorkerList(workers);
    }
}
