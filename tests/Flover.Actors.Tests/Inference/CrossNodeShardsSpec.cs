using System.Net;
using Akka.Actor;
using Flover.Actors.Inference.Sharding;
using Flover.Gpu;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Models.Gpt2;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Inference;

/// <summary>
/// Tensor parallelism across nodes as placed and computed: the split over 2-3 ActorSystems gives the
/// split in one process bit for bit and the whole model's greedy tokens, on the CPU engine and with
/// every rank on a device; what a node refuses (another
/// group size, another certificate) fails the placement with one line naming it.
/// </summary>
[Trait("Category", "Slow")]
public sealed class CrossNodeShardsSpec(ITestOutputHelper output) : CrossNodeSpec(output)
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Ranks_on_other_nodes_give_the_in_process_groups_logits_bit_for_bit_and_the_whole_models_greedy_tokens(int size)
    {
        Host(Sys, size);
        Address[] others = [.. Enumerable.Range(1, size - 1).Select(_ => StartNode(size))];
        ShardedModel inProcess = Shards(size);
        using ShardedModelClient local = ShardedModelClient.Start(Sys, inProcess, Slots);
        using ShardedModelClient across = ShardedModelClient.Start(Sys, inProcess.WithPlacement(new ShardPlacement(others)), Slots, TimeSpan.FromSeconds(60));

        // Every other node holds one rank's shard actor under its host (nothing ran in this process only).
        foreach (ActorSystem node in Nodes)
        {
            node.ActorSelection($"/user/{ShardHostActor.Name}/*").Tell(new Identify(node.Name), TestActor);
            Assert.NotNull(ExpectMsg<ActorIdentity>().Subject);
        }

        Assert.Equal(ShardedModelTests.Script(local), ShardedModelTests.Script(across));
        using var whole = Gpt2Model.Load(new EngineOptions(1), Weights, new Gpt2ModelOptions(Slots));
        int[] prompt = [5, 17, 2, 90, 33];
        Assert.Equal(ShardedModelTests.Greedy(whole, prompt, 8), ShardedModelTests.Greedy(across, prompt, 8));
    }

    [Fact]
    public void Ranks_on_devices_of_other_nodes_give_the_in_process_device_groups_logits_bit_for_bit_and_the_whole_models_greedy_tokens()
    {
        // Each rank on an ILGPU CPU accelerator of its own, as on each node's GPU: the mesh stages
        // their buffers through host memory, the in-process group through its host-staged group.
        Host(Sys, 2, AcceleratorKind.IlgpuCpu);
        Address other = StartNode(2, AcceleratorKind.IlgpuCpu);
        ShardedModel inProcess = Shards(2, AcceleratorKind.IlgpuCpu);
        using ShardedModelClient local = ShardedModelClient.Start(Sys, inProcess, Slots);
        using ShardedModelClient across = ShardedModelClient.Start(Sys, inProcess.WithPlacement(new ShardPlacement([other])), Slots, TimeSpan.FromSeconds(60));

        Assert.Equal(ShardedModelTests.Script(local), ShardedModelTests.Script(across));
        using var whole = Gpt2Model.Load(new EngineOptions(1), Weights, new Gpt2ModelOptions(Slots));
        int[] prompt = [5, 17, 2, 90, 33];
        Assert.Equal(ShardedModelTests.Greedy(whole, prompt, 6), ShardedModelTests.Greedy(across, prompt, 6));
    }

    [Fact]
    public void A_group_no_node_has_room_for_is_refused_naming_each_node_and_why()
    {
        Host(Sys, 2);
        Address wrongSize = StartNode(3);

        var error = Assert.Throws<FloverException>(() => ShardedModelClient.Start(Sys, Shards(2).WithPlacement(new ShardPlacement([wrongSize])), Slots, TimeSpan.FromSeconds(30)));

        Assert.Contains("cannot be placed across nodes", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{wrongSize}: {wrongSize}'s shard host opens ranks of groups of 3, not 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_node_that_just_lost_a_shard_of_the_group_is_asked_last()
    {
        Host(Sys, 2);
        Address suspect = StartNode(2);
        Address other = StartNode(2);

        var placement = new ShardPlacement([suspect, other]);
        Address[] suspects = [suspect];
        ChildActorOf(Props.Create(() => new ShardPlacementActor(placement, "owner", 1, 2, Slots, suspects)));

        ShardsPlaced placed = ExpectMsg<ShardsPlaced>(TimeSpan.FromSeconds(30));
        Assert.Equal(other, placed.Shards[1].Path.Address);
    }

    [Fact]
    public void A_node_releases_its_checkpoint_once_its_rank_has_loaded()
    {
        Host(Sys, 2);
        ShardedModel model = Shards(2);
        using var released = new ManualResetEventSlim();
        Address node = StartNode(new ShardHostOptions(new ShardedModel(model.Shape, 2, model.Create, model.Device) { WhenLoaded = released.Set }, IPAddress.Loopback));
        Assert.False(released.IsSet);

        using ShardedModelClient across = ShardedModelClient.Start(Sys, model.WithPlacement(new ShardPlacement([node])), Slots, TimeSpan.FromSeconds(60));

        Assert.True(released.Wait(TimeSpan.FromSeconds(30)), "the node's host released its checkpoint after rank 1 loaded");
    }

    [Fact]
    public void With_tls_ranks_mesh_over_the_clusters_certificate_and_a_node_with_another_is_refused()
    {
        string cluster = Certificate("CN=flover-cluster");
        // Room for two ranks here: the first group's rank 0 may still be closing when the second is placed.
        Sys.ActorOf(ShardHostActor.Props(TlsHost(2, cluster, capacity: 2)), ShardHostActor.Name);
        Address member = StartNode(TlsHost(2, cluster));
        int[] prompt = [5, 17, 2, 90, 33];
        using (ShardedModelClient local = ShardedModelClient.Start(Sys, Shards(2), Slots))
        using (ShardedModelClient across = ShardedModelClient.Start(Sys, Shards(2).WithPlacement(new ShardPlacement([member])), Slots, TimeSpan.FromSeconds(60)))
        {
            Assert.Equal(ShardedModelTests.Greedy(local, prompt, 6), ShardedModelTests.Greedy(across, prompt, 6));
        }

        Address stranger = StartNode(TlsHost(2, Certificate("CN=stranger")));
        var error = Assert.Throws<FloverException>(() => ShardedModelClient.Start(Sys, Shards(2).WithPlacement(new ShardPlacement([stranger])), Slots, TimeSpan.FromSeconds(60)));

        Assert.Contains("could not join the mesh", error.Message, StringComparison.Ordinal);
        Assert.Contains("failed mutual TLS authentication", error.Message, StringComparison.Ordinal);
    }

}
