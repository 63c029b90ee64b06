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
    [InlineData("worker-tp.conf", false, true, false, 4056)]
    [InlineData("shard-1.conf", false, false, true, 4057)]
    [InlineData("shard-2.conf", false, false, true, 4058)]
    public void The_tensor_parallel_across_nodes_example_loads_with_its_roles_group_size_and_nodes(string file, bool frontend, bool worker, bool shard, int port)
    {
        Config config = FloverConfiguration.Load(new ConfigurationSources
        {
            ConfigFile = Path.Combine(MetricsTests.RepositoryRoot(), "hocon", "cluster", file),
            Environment = _ => null,
        });

        Assert.Equal(new ClusterMode(true, frontend, worker, HasSeeds: true) { Shard = shard }, ClusterMode.From(config));
        Assert.Equal(port, config.GetInt("akka.remote.dot-netty.tcp.port"));
        ParallelSettings parallel = FloverSettings.From(config).Parallel;
        Assert.Equal(2, parallel.Tensor);
        Assert.Equal(worker ? ["akka.tcp://flover@127.0.0.1:4057", "akka.tcp://flover@127.0.0.1:4058"] : [], parallel.Nodes);
    }

    [Fact]
    public void A_shard_node_without_a_group_size_is_a_user_error_naming_the_setting()
    {
        CliResult result = CliRunner.Run("node", "--preset", "tiny", "--set", "akka.actor.provider = cluster", "--set", "akka.cluster.roles = [shard]");

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        Assert.Contains("it needs flover.parallel.tensor above 1", result.Stderr, StringComparison.Ordinal);
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

    [Theory]
    [Trait("Category", "Slow")]
    [InlineData("node")]
    [InlineData("serve")]
    public void A_node_whose_seeds_never_answer_gives_up_after_the_configured_time_with_one_line_and_exit_code_1(string command)
    {
        // A loopback port nobody listens on (bound, read, released): every join attempt goes unanswered.
        int closed;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            closed = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        string seed = $"akka.tcp://flover@127.0.0.1:{closed}";
        var watch = System.Diagnostics.Stopwatch.StartNew();
        CliResult result = CliRunner.Run(
            [command, "--preset", "tiny", .. command == "serve" ? new[] { "--port", "0" } : [],
             "--set", "akka.actor.provider = cluster", "--set", "akka.cluster.roles = [worker]",
             "--set", "akka.remote.dot-netty.tcp.hostname = \"127.0.0.1\"", "--set", "akka.remote.dot-netty.tcp.port = 0",
             "--set", $"akka.cluster.seed-nodes = [\"{seed}\"]",
             "--set", "akka.cluster.seed-node-timeout = 1s", "--set", "akka.cluster.retry-unsuccessful-join-after = 1s",
             "--set", "akka.cluster.shutdown-after-unsuccessful-join-seed-nodes = 3s"]);

        Assert.Equal(1, result.ExitCode);
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(60));
        string[] errors = [.. result.Stderr.Split('\n').Where(l => l.Contains("error", StringComparison.Ordinal))];
        string line = Assert.Single(errors);
        Assert.Contains($"{command}: error: could not join the cluster", line, StringComparison.Ordinal);
        Assert.Contains(seed, line, StringComparison.Ordinal);
        Assert.Contains("3s", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_names_the_cluster_guide()
    {
        Assert.Contains("docs/CLUSTER.md", CliRunner.Run("node", "--help").Stdout, StringComparison.Ordinal);
    }
}
