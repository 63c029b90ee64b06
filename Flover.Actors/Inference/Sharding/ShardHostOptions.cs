using System.Net;
using Flover.Gpu.Collectives.Tcp;

namespace Flover.Actors.Inference.Sharding;

/// <summary>What a node's <see cref="ShardHostActor"/> opens ranks from and how its ranks reach their peers.</summary>
/// <param name="Model">
/// The node's copy of the model, split over the group's size: each rank opened here loads its slice
/// with <see cref="ShardedModel.Create"/> on its own thread. Only groups of
/// <see cref="ShardedModel.ShardCount"/> ranks are opened.
/// </param>
/// <param name="ListenAddress">The address the ranks' listeners bind (a free port each).</param>
/// <param name="AdvertisedHost">The name or address the other ranks dial (null: <paramref name="ListenAddress"/>).</param>
public sealed record ShardHostOptions(ShardedModel Model, IPAddress ListenAddress, string? AdvertisedHost = null)
{
    /// <summary>Ranks this node holds at once, over all groups (1: one rank per node).</summary>
    public int Capacity { get; init; } = 1;

    /// <summary>How the ranks' connections are made: mutual TLS with the cluster's certificates, the time the mesh may take to form.</summary>
    public TcpCommunicatorOptions Tcp { get; init; } = new();
}
