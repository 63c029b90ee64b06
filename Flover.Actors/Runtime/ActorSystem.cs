using Flover.Actors.Configuration;
using Flover.Actors.Dispatch;
using Flover.Actors.Event;
using Microsoft.Extensions.Logging;

namespace Flover.Actors.Runtime;

/// <summary>
/// A hierarchy of actors sharing configuration, dispatchers, a scheduler and an event stream.
/// Create one with <see cref="Create(string)"/>; stop it with <see cref="Terminate"/>.
/// </summary>
public abstract class ActorSystem : IActorRefFactory, IDisposable
{
    /// <summary>Creates a system with the default configuration (reference.conf).</summary>
    public static ActorSystem Create(string name) => Create(name, BootstrapSetup.Create());

    /// <summary>Creates a system with <paramref name="config"/> on top of reference.conf.</summary>
    public static ActorSystem Create(string name, Config config) => Create(name, BootstrapSetup.Create().WithConfig(config));

    /// <summary>Creates a system from a setup (configuration and logger factory).</summary>
    /// <exception cref="ArgumentException">The name is not a valid system name.</exception>
    /// <exception cref="ConfigurationException">The configuration is invalid.</exception>
    public static ActorSystem Create(string name, BootstrapSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        return new ActorSystemImpl(name, setup);
    }

    /// <summary>The system's name (the <c>akka://name</c> part of paths).</summary>
    public abstract string Name { get; }

    /// <summary>The settings.</summary>
    public abstract Settings Settings { get; }

    /// <summary>Where undeliverable messages go; they are published on the event stream as <see cref="DeadLetter"/>.</summary>
    public abstract IActorRef DeadLetters { get; }

    /// <summary>The system's publish/subscribe bus.</summary>
    public abstract EventStream EventStream { get; }

    /// <summary>The scheduler.</summary>
    public abstract IScheduler Scheduler { get; }

    /// <summary>The system's own logger.</summary>
    public abstract ILoggingAdapter Log { get; }

    /// <summary>The dispatchers, by id.</summary>
    public abstract Dispatchers Dispatchers { get; }

    /// <summary>Message serialization (for remoting and persistence).</summary>
    public abstract Serialization.Serialization Serialization { get; }

    /// <summary>When the system started.</summary>
    public abstract DateTimeOffset StartTime { get; }

    /// <summary>How long it has been running.</summary>
    public TimeSpan Uptime => DateTimeOffset.UtcNow - StartTime;

    /// <summary>Completes once every actor has stopped after <see cref="Terminate"/>.</summary>
    public abstract Task WhenTerminated { get; }

    /// <summary>Stops every actor (children before parents) and then the system; returns <see cref="WhenTerminated"/>.</summary>
    public abstract Task Terminate();

    /// <inheritdoc />
    public abstract IActorRef ActorOf(Props props, string? name = null);

    /// <inheritdoc />
    public abstract ActorSelection ActorSelection(string actorPath);

    /// <inheritdoc />
    public abstract ActorSelection ActorSelection(ActorPath actorPath);

    /// <summary>Stops <paramref name="actor"/> asynchronously.</summary>
    public abstract void Stop(IActorRef actor);

    /// <summary>Terminates the system and waits for it.</summary>
    public void Dispose()
    {
        Terminate().GetAwaiter().GetResult();
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc />
    public override string ToString() => $"akka://{Name}";
}

/// <summary>What an <see cref="ActorSystem"/> is created from: its configuration and where its logs go.</summary>
public sealed record BootstrapSetup
{
    private BootstrapSetup()
    {
    }

    /// <summary>The configuration (reference.conf is always the fallback).</summary>
    public Config? Config { get; private init; }

    /// <summary>Where logs are written; null: standard error, at <c>akka.loglevel</c>.</summary>
    public ILoggerFactory? LoggerFactory { get; private init; }

    /// <summary>An empty setup.</summary>
    public static BootstrapSetup Create() => new();

    /// <summary>A copy with <paramref name="config"/>.</summary>
    public BootstrapSetup WithConfig(Config config) => this with { Config = config };

    /// <summary>A copy writing logs to <paramref name="loggerFactory"/>.</summary>
    public BootstrapSetup WithLoggerFactory(ILoggerFactory loggerFactory) => this with { LoggerFactory = loggerFactory };
}
