using Flover.Actors.Cluster;
using Flover.Configuration;
using Flover.Gpu;

namespace Flover.Actors.Tests.Cluster;

/// <summary>What a node runs, from its configuration: single-process unless the cluster provider is chosen; its roles then.</summary>
public sealed class ClusterModeTests
{
    [Fact]
    public void Without_the_cluster_provider_a_node_is_the_single_process_default()
    {
        Assert.Equal(ClusterMode.Single, ClusterMode.From(ConfigurationFactory.ParseString("akka.actor.provider = local")));
        Assert.Equal(ClusterMode.Single, ClusterMode.From(ConfigurationFactory.ParseString("akka.cluster.roles = [frontend]")));
    }

    [Theory]
    [InlineData("", true, true, false)]
    [InlineData("akka.cluster.roles = [worker]", false, true, false)]
    [InlineData("akka.cluster.roles = [frontend], akka.cluster.seed-nodes = [\"akka.tcp://flover@10.0.0.1:4053\"]", true, false, true)]
    [InlineData("akka.cluster.roles = [frontend, worker], akka.cluster.seed-nodes = []", true, true, false)]
    public void A_cluster_node_runs_what_its_roles_say_and_both_without_roles(string settings, bool frontend, bool worker, bool seeds)
    {
        Config config = ConfigurationFactory.ParseString($"akka.actor.provider = cluster\n{settings}");

        Assert.Equal(new ClusterMode(true, frontend, worker, seeds), ClusterMode.From(config));
    }

    [Fact]
    public void A_node_without_roles_hands_akka_both_and_an_unknown_role_is_refused()
    {
        Config config = ClusterMode.WithDefaultRoles(ConfigurationFactory.ParseString("akka.actor.provider = cluster"));

        Assert.Equal([ClusterRoles.Frontend, ClusterRoles.Worker], config.GetStringList("akka.cluster.roles"));
        Assert.Contains("not 'gpu'", Assert.Throws<FloverException>(() => ClusterMode.From(ConfigurationFactory.ParseString("akka.actor.provider = cluster\nakka.cluster.roles = [gpu]"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_shard_node_holds_ranks_only_and_the_shard_role_joins_the_others()
    {
        Assert.Equal(new ClusterMode(true, false, false, false) { Shard = true }, ClusterMode.From(ConfigurationFactory.ParseString("akka.actor.provider = cluster\nakka.cluster.roles = [shard]")));
        Assert.Equal(new ClusterMode(true, false, true, false) { Shard = true }, ClusterMode.From(ConfigurationFactory.ParseString("akka.actor.provider = cluster\nakka.cluster.roles = [worker, shard]")));
    }
}
