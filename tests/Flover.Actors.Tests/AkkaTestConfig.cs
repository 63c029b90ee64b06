using Flover.Actors.Hosting;
using Flover.Configuration;
using AkkaConfig = Akka.Configuration.Config;

namespace Flover.Actors.Tests;

/// <summary>
/// The configuration the actor specs run with: Flover's reference configuration (its dispatchers:
/// the decode loop and the shards on pinned threads) handed to Akka exactly as the host does.
/// </summary>
internal static class AkkaTestConfig
{
    /// <summary>Flover's resolved reference configuration, with warnings and up logged.</summary>
    public static AkkaConfig Default { get; } = AkkaConfiguration.From(FloverConfiguration.Load(new ConfigurationSources
    {
        Overrides = ["akka.loglevel = WARNING"],
        Environment = _ => null,
        WorkingDirectory = AppContext.BaseDirectory,
    }));

    /// <summary><see cref="Default"/> on Akka.TestKit's virtual-time scheduler (time moves only when a test advances it).</summary>
    public static AkkaConfig VirtualTime { get; } = Akka.Configuration.ConfigurationFactory
        .ParseString("""akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit" """)
        .WithFallback(Default);
}
