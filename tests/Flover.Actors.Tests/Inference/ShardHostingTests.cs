using Akka.Actor;
using Flover.Actors.Inference.Sharding;
using Flover.Configuration;
using Flover.Gpu;

namespace Flover.Actors.Tests.Inference;

/// <summary>flover.parallel.* as a node reads it: where its group's ranks go, and one clear error for a bad node list.</summary>
public sealed class ShardHostingTests
{
    [Fact]
    public void The_nodes_become_the_placement_in_order_with_the_timeout()
    {
        var parallel = new ParallelSettings(3) { Nodes = ["akka.tcp://flover@10.0.0.2:4053", "akka.ssl.tcp://flover@node-c:4053"], PlacementTimeout = TimeSpan.FromSeconds(7) };

        ShardPlacement placement = ShardHosting.Placement(parallel)!;

        Assert.Equal([Address.Parse("akka.tcp://flover@10.0.0.2:4053"), Address.Parse("akka.ssl.tcp://flover@node-c:4053")], placement.Nodes);
        Assert.Equal(TimeSpan.FromSeconds(7), placement.Timeout);
        Assert.Null(ShardHosting.Placement(new ParallelSettings(3)));
    }

    [Theory]
    [InlineData(2, "10.0.0.2:4053", "'10.0.0.2:4053' is not an Akka address")]
    [InlineData(2, "akka.tcp://flover@10.0.0.2:4053|akka.tcp://flover@10.0.0.2:4053", "named twice")]
    [InlineData(1, "akka.tcp://flover@10.0.0.2:4053", "flover.parallel.tensor = 1")]
    public void A_bad_node_list_is_one_error_naming_the_setting(int tensor, string nodes, string expected)
    {
        var error = Assert.Throws<FloverException>(() => ShardHosting.Placement(new ParallelSettings(tensor) { Nodes = nodes.Split('|') }));

        Assert.StartsWith("flover.parallel.nodes", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reference_conf_keeps_shards_in_process_with_one_rank_of_room()
    {
        ParallelSettings parallel = FloverSettings.From(FloverConfiguration.Load(new ConfigurationSources { Environment = _ => null, WorkingDirectory = AppContext.BaseDirectory })).Parallel;

        Assert.Empty(parallel.Nodes);
        Assert.Equal(TimeSpan.FromSeconds(30), parallel.PlacementTimeout);
        Assert.Equal(1, parallel.HostCapacity);
        Assert.False(ShardHosting.Hosts(FloverSettings.From(FloverConfiguration.Load(new ConfigurationSources { Overrides = ["flover.parallel.tensor = 2"], Environment = _ => null, WorkingDirectory = AppContext.BaseDirectory })), remote: false));
        Assert.True(ShardHosting.Hosts(FloverSettings.From(FloverConfiguration.Load(new ConfigurationSources { Overrides = ["flover.parallel.tensor = 2"], Environment = _ => null, WorkingDirectory = AppContext.BaseDirectory })), remote: true));
    }
}
