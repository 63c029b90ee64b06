using Akka.Actor;
using Akka.Event;
using Flover.Actors.Inference.Sharding;

namespace Flover.Actors.Inference;

/// <summary>
/// A group across nodes that cannot be placed (at start, or after losing a rank, no listed node
/// has room): the loop stops serving with that error, as a broken loop does, but tries the
/// placement again every placement timeout, and serves again once a placement succeeds (a shard
/// node started late, or one came back).
/// </summary>
internal sealed partial class DecodeLoopActor
{
    private const string PlacementTimer = "placement-retry";

    /// <summary>Whether <see cref="_broken"/> is a failed placement, which a later one lifts (any other break is for good).</summary>
    private bool _unplaced;

    /// <summary>
    /// Nothing fits: every request the loop holds ends with the error and new ones are refused
    /// (frontends route them to other workers) until a retry places the group.
    /// </summary>
    private void OnPlacementFailed(ShardPlacementFailed failed)
    {
        if (_shards.PlacementFailure(failed) is not { } reason || (_broken is not null && !_unplaced))
        {
            return;
        }

        Break($"the tensor-parallel group of {_shards.Count} ranks cannot be placed across nodes: {reason}; the engine cannot serve until it can (tried again every {_shards.Model.Placement!.Timeout.TotalSeconds:0.#} s)");
        _unplaced = true;
        Timers.StartSingleTimer(PlacementTimer, RetryPlacement.Instance, _shards.Model.Placement.Timeout);
    }

    private void OnRetryPlacement()
    {
        if (_unplaced)
        {
            _shards.PlaceAgain(Context);
        }
    }

    /// <summary>Every shard has loaded: a loop that could not place its group serves again.</summary>
    private void Placed()
    {
        if (_unplaced)
        {
            _log.Info("The tensor-parallel group is placed across nodes again; the engine serves.");
            _unplaced = false;
            _broken = null;
        }
    }

    /// <summary>The placement retry's timer message.</summary>
    private sealed record RetryPlacement : INoSerializationVerificationNeeded
    {
        public static RetryPlacement Instance { get; } = new();
    }
}
