namespace Flover.Configuration.Tests;

/// <summary>Akka.NET's shipped configuration files and the other real-world targets must parse and resolve.</summary>
public sealed class RealWorldTargetTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (string folder in new[] { "akkadotnet-akka.net", "akkadotnet-hocon", Path.Combine("lightbend-config", "examples") })
        {
            foreach (string file in Directory.GetFiles(Path.Combine(ConformanceData.Root, folder), "*.conf", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal))
            {
                data.Add(Path.GetRelativePath(ConformanceData.Root, file));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Configuration_file_parses_and_resolves(string relativePath)
    {
        Config config = ConformanceData.Parse(Path.Combine(ConformanceData.Root, relativePath));

        Assert.False(config.IsEmpty);
    }

    [Fact]
    public void Every_akka_net_default_file_is_covered()
    {
        Assert.Equal(13, Directory.GetFiles(Path.Combine(ConformanceData.Root, "akkadotnet-akka.net"), "*.conf", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public void Akka_conf_reads_with_akka_dialect_values()
    {
        Config config = ConformanceData.Parse(Path.Combine(ConformanceData.Root, "akkadotnet-akka.net", "src", "core", "Akka", "Configuration", "akka.conf"));

        Assert.Equal(Timeout.InfiniteTimeSpan, config.GetTimeSpan("akka.actor.ask-timeout"));
        Assert.Equal(30, config.GetInt("akka.actor.default-dispatcher.throughput"));
        Assert.False(config.GetBoolean("akka.log-config-on-start"));
        Assert.Equal("INFO", config.GetString("akka.loglevel"));
        Assert.Equal(TimeSpan.FromMinutes(5), config.GetTimeSpan("akka.log-dead-letters-suspend-duration"));
    }

    [Fact]
    public void Remote_conf_copies_a_whole_section_with_a_substitution_and_overrides_it()
    {
        Config config = ConformanceData.Parse(Path.Combine(ConformanceData.Root, "akkadotnet-akka.net", "src", "core", "Akka.Remote", "Configuration", "Remote.conf"));

        Assert.Equal(config.GetString("akka.remote.dot-netty.tcp.hostname"), config.GetString("akka.remote.dot-netty.udp.hostname"));
        Assert.Equal("udp", config.GetString("akka.remote.dot-netty.udp.transport-protocol"));
        Assert.Equal("tcp", config.GetString("akka.remote.dot-netty.tcp.transport-protocol"));
    }

    [Fact]
    public void Cluster_conf_switches_a_duration_off()
    {
        Config config = ConformanceData.Parse(Path.Combine(ConformanceData.Root, "akkadotnet-akka.net", "src", "core", "Akka.Cluster", "Configuration", "Cluster.conf"));

        Assert.Null(config.GetTimeSpanWithOffSwitch("akka.cluster.auto-down-unreachable-after"));
    }

    [Fact]
    public void Akka_hocon_app_conf_with_unusual_brace_placement()
    {
        Config config = ConformanceData.Parse(Path.Combine(ConformanceData.Root, "akkadotnet-hocon", "src", "Hocon.Configuration.Test", "app.conf"));

        Assert.Equal("Hello HOCON2", config.GetString("root.simple-string"));
    }
}
