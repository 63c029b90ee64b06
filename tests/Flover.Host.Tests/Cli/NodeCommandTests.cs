using Flover.Actors.Cluster;
using Flover.Configuration;
using Flover.Host.Cli;
using Flover.Host.Tests.Http;

namespace Flover.Host.Tests.Cli;

/// <summary><c>flover node</c>: a worker needs the cluster selected and the worker role, said in one line before any model is loaded.</summary>
public sealed class NodeCommandTests
{
    [Fact]
    public void Without_the_cluster_provider_node_is_a_user_error_naming_the_settings()
    {
        CliResult result = CliRunner.Run("node", "--preset", "tiny");

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        Assert.Contains("akka.actor.provider = cluster", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("loading", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Theory]
    [InlineData("akka.cluster.roles = [frontend]", "akka.cluster.roles must include worker")]
    [InlineData("akka.cluster.roles = [gpu]", "not 'gpu'")]
    public void A_node_without_the_worker_role_is_a_user_error(string roles, string expected)
    {
        CliResult result = CliRunner.Run("node", "--preset", "tiny", "--set", "akka.actor.provider = cluster", "--set", roles);

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("frontend.conf", true, false, 4053)]
    [InlineData("worker-1.conf", false, true, 4054)]
    [InlineData("worker-2.conf", false, true, 4055)]
    public void The_three_node_loopback_example_loads_with_its_roles_and_one_seed(string file, bool frontend, bool worker, int port)
    {
        Config config = FloverConfiguration.Load(new ConfigurationSources
        {
            ConfigFile = Path.Combine(MetricsTests.RepositoryRoot(), "hocon", "cluster", file),
            Environment = _ => null,
        });

        Assert.Equal(new ClusterMode(true, frontend, worker, HasSeeds: true), ClusterMode.From(config));
        Assert.Equal(port, config.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal(["akka.tcp://flover@127.0.0.1:4053"], config.GetStringList("akka.cluster.seed-nodes"));
    }

    [Fact]
    public void Help_names_the_cluster_guide()
    {
        Assert.Contains("docs/CLUSTER.md", CliRunner.Run("node", "--help").Stdout, StringComparison.Ordinal);
    }
}
