using System.Diagnostics;
using Akka.Actor;
using Flover.Gpu.Memory;

namespace Flover.Actors.Inference;

/// <summary>DecodeLoopActor → ShuffleActor: plan a compaction of this occupancy.</summary>
internal sealed record PlanCompaction(bool[] Occupancy, long Version) : INoSerializationVerificationNeeded;

/// <summary>ShuffleActor → DecodeLoopActor: the plan, for the occupancy version it was made for.</summary>
internal sealed record CompactionPlanned(CompactionPlan Plan, long Version, TimeSpan PlanningTime) : INoSerializationVerificationNeeded;

/// <summary>
/// Plans KV compaction with the paper's minimal-move algorithm (<see cref="CompactionPlanner"/>)
/// off the decode loop's thread; the loop applies the plan between iterations, unless the
/// occupancy changed meanwhile (the plan is then stale and dropped, and a new one is asked for).
/// </summary>
internal sealed class ShuffleActor : ReceiveActor
{
    public ShuffleActor()
    {
        Receive<PlanCompaction>(request =>
        {
            long start = Stopwatch.GetTimestamp();
            CompactionPlan plan = CompactionPlanner.Plan(request.Occupancy);
            Sender.Tell(new CompactionPlanned(plan, request.Version, Stopwatch.GetElapsedTime(start)));
        });
    }
}
