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
        // Every message a test sends through an actor is serialized and read back first, so a message
        // that cannot cross nodes (or one Akka would hand to its JSON fallback) fails the test.
        Overrides = ["akka.loglevel = WARNING", "akka.actor.serialize-messages = on"],
        Environment = _ => null,
        WorkingDirectory = AppContext.BaseDirectory,
    }));

    /// <summary><see cref="Default"/> on Akka.TestKit's virtual-time scheduler (time moves only when a test advances it).</summary>
    public static AkkaConfig VirtualTime { get; } = Akka.Configuration.ConfigurationFactory
        .ParseString("""akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit" """)
        .WithFallback(Default);
}
