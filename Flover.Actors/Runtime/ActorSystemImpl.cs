using Flover.Actors.Configuration;
using Flover.Actors.Dispatch;
using Flover.Actors.Dispatch.SysMsg;
using Flover.Actors.Event;
using Microsoft.Extensions.Logging;

namespace Flover.Actors.Runtime;

/// <summary>The local actor system: root, /user and /system guardians, dead letters, scheduler.</summary>
internal sealed class ActorSystemImpl : ActorSystem
{
    private readonly TaskCompletionSource _terminated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ActorCell _root;
    private readonly ActorCell _userGuardian;
    private readonly ActorCell _systemGuardian;
    private readonly ILoggerFactory? _ownedLoggerFactory;
    private long _tempNumber;
    private int _terminateRequested;

    public ActorSystemImpl(string name, BootstrapSetup setup)
    {
        ValidateName(name);
        Name = name;
        Config config = (setup.Config ?? Config.Empty).WithFallback(ConfigurationFactory.Default());
        Settings = new Settings(config);
        if (setup.LoggerFactory is null)
        {
            _ownedLoggerFactory = CreateDefaultLoggerFactory(Settings.LogLevel);
        }

        LoggerFactory = setup.LoggerFactory ?? _ownedLoggerFactory!;
        EventStream = new EventStream();
        Dispatchers = new Dispatchers(config);
        Mailboxes = new Mailboxes(config);
        Serialization = new Serialization.Serialization();
        Scheduler = CreateScheduler(Settings.SchedulerImplementation, config);
        StartTime = DateTimeOffset.UtcNow;
        RootPath = ActorPath.Root(new Address("akka", name));
        DeadLetters = new DeadLetterActorRef(this, RootPath / "deadLetters");
        Log = Logging.GetLogger(this, $"ActorSystem({name})");
        ValidateDispatchers(config);

        MessageDispatcher defaultDispatcher = Dispatchers.Lookup(Props.DefaultDispatcherId);
        var guardianProps = Props.Create(() => new GuardianActor());
        _root = new ActorCell(this, RootPath, Props.Create(() => new RootGuardianActor()), new RootSupervisorRef(this), defaultDispatcher, Mailboxes.Create(Props.DefaultMailboxId));
        // The guardians exist before the root starts, so its PreStart can watch them.
        _userGuardian = _root.MakeChild(guardianProps, "user", systemGenerated: true).Cell;
        _systemGuardian = _root.MakeChild(guardianProps, "system", systemGenerated: true).Cell;
        _root.Start();
    }

    public override string Name { get; }

    public override Settings Settings { get; }

    public override IActorRef DeadLetters { get; }

    public override EventStream EventStream { get; }

    public override IScheduler Scheduler { get; }

    public override ILoggingAdapter Log { get; }

    public override Dispatchers Dispatchers { get; }

    public Mailboxes Mailboxes { get; }

    public override Serialization.Serialization Serialization { get; }

    public override DateTimeOffset StartTime { get; }

    public override Task WhenTerminated => _terminated.Task;

    public ILoggerFactory LoggerFactory { get; }

    public ActorPath RootPath { get; }

    public ActorCell RootCell => _root;

    public IActorRef UserGuardian => _userGuardian.Self;

    public override IActorRef ActorOf(Props props, string? name = null) => _userGuardian.ActorOf(props, name);

    /// <summary>Creates an actor under /system (runtime and Flover internals).</summary>
    public IActorRef SystemActorOf(Props props, string? name = null) => _systemGuardian.ActorOf(props, name);

    public override ActorSelection ActorSelection(string actorPath) => SelectionFrom(null, actorPath);

    public override ActorSelection ActorSelection(ActorPath actorPath)
    {
        ArgumentNullException.ThrowIfNull(actorPath);
        return new ActorSelection(this, _root.Self, actorPath.Elements);
    }

    public ActorSelection SelectionFrom(IActorRef? anchor, string actorPath)
    {
        ArgumentNullException.ThrowIfNull(actorPath);
        if (ActorPath.TryParse(actorPath, out ActorPath? absolute))
        {
            return absolute.Address.System == Name && absolute.Address.HasLocalScope
                ? new ActorSelection(this, _root.Self, absolute.Elements)
                : new ActorSelection(this, DeadLetters, []);
        }

        string[] elements = actorPath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return actorPath.StartsWith('/') || anchor is null
            ? new ActorSelection(this, _root.Self, elements)
            : new ActorSelection(this, anchor, elements);
    }

    public override void Stop(IActorRef actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        (actor as IInternalActorRef)?.SendSystemMessage(new Terminate());
    }

    public override Task Terminate()
    {
        if (Interlocked.Exchange(ref _terminateRequested, 1) == 0)
        {
            _root.Self.SendSystemMessage(new Terminate());
        }

        return WhenTerminated;
    }

    /// <summary>A fresh path under /temp for Ask and GracefulStop promises.</summary>
    public ActorPath TempPath() => RootPath / "temp" / ("$" + Interlocked.Increment(ref _tempNumber));

    public SupervisorStrategy GuardianStrategyFor(ActorCell cell) =>
        cell == _root ? SupervisorStrategy.StoppingStrategy : SupervisorStrategy.DefaultStrategy;

    /// <summary>Called when the root guardian has terminated: the last step of shutting down.</summary>
    public void FinishTermination()
    {
        (Scheduler as IDisposable)?.Dispose();
        _ownedLoggerFactory?.Dispose();
        _terminated.TrySetResult();
    }

    private static void ValidateName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        bool valid = name.Length > 0 && char.IsAsciiLetterOrDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
        if (!valid)
        {
            throw new ArgumentException($"Invalid ActorSystem name [{name}], must contain only word characters (i.e. [a-zA-Z0-9] plus non-leading '-' or '_').", nameof(name));
        }
    }

    private void ValidateDispatchers(Config config)
    {
        // A dispatcher named in a deployment must exist: fail at start-up, not at first use.
        Dispatchers.Lookup(Props.DefaultDispatcherId);
        if (config.HasPath("flover.dispatchers") && config.GetValue("flover.dispatchers")?.ValueType == ConfigValueType.Object)
        {
            // Flover's own dispatchers (the decode loop's) are built now, so a bad type fails here.
            foreach (string id in config.GetConfig("flover.dispatchers").Root.Keys)
            {
                Dispatchers.Lookup("flover.dispatchers." + id);
            }
        }

        if (config.HasPath("akka.actor.deployment"))
        {
            foreach (KeyValuePair<string, ConfigValue> entry in config.GetConfig("akka.actor.deployment").AsEnumerable())
            {
                if (entry.Key.EndsWith(".dispatcher", StringComparison.Ordinal) || entry.Key == "dispatcher")
                {
                    string id = config.GetConfig("akka.actor.deployment").GetString(entry.Key) ?? string.Empty;
                    if (!Dispatchers.HasDispatcher(id))
                    {
                        throw new ConfigurationException(entry.Value.Origin, $"akka.actor.deployment.{entry.Key}: dispatcher [{id}] is not configured.");
                    }
                }
            }
        }
    }

    private static IScheduler CreateScheduler(string? implementation, Config config)
    {
        if (string.IsNullOrEmpty(implementation) || implementation.Contains("DefaultScheduler", StringComparison.Ordinal) || implementation.Contains("HashedWheelTimerScheduler", StringComparison.Ordinal))
        {
            return new DefaultScheduler();
        }

        Type type = Type.GetType(implementation, throwOnError: false)
            ?? throw new ConfigurationException(config.GetValue("akka.scheduler.implementation")?.Origin, $"akka.scheduler.implementation: type '{implementation}' not found.");
        object? instance = type.GetConstructor([typeof(Config)]) is { } withConfig
            ? withConfig.Invoke([config])
            : Activator.CreateInstance(type);
        return instance as IScheduler
            ?? throw new ConfigurationException(config.GetValue("akka.scheduler.implementation")?.Origin, $"akka.scheduler.implementation: '{implementation}' is not an IScheduler.");
    }

    private static ILoggerFactory CreateDefaultLoggerFactory(Event.LogLevel level) =>
        Microsoft.Extensions.Logging.LoggerFactory.Create(builder => builder
            .SetMinimumLevel(level switch
            {
                Event.LogLevel.DebugLevel => Microsoft.Extensions.Logging.LogLevel.Debug,
                Event.LogLevel.InfoLevel => Microsoft.Extensions.Logging.LogLevel.Information,
                Event.LogLevel.WarningLevel => Microsoft.Extensions.Logging.LogLevel.Warning,
                Event.LogLevel.ErrorLevel => Microsoft.Extensions.Logging.LogLevel.Error,
                _ => Microsoft.Extensions.Logging.LogLevel.None,
            })
            // Standard error: stdout belongs to program output (e.g. a CLI's --json).
            .AddConsole(options => options.LogToStandardErrorThreshold = Microsoft.Extensions.Logging.LogLevel.Trace));

    /// <summary>The /user and /system guardians: they only supervise.</summary>
    private sealed class GuardianActor : UntypedActor
    {
        protected override void OnReceive(object message) => Unhandled(message);
    }

    /// <summary>The root: when a guardian dies on its own (escalated failure), the system terminates.</summary>
    private sealed class RootGuardianActor : UntypedActor
    {
        protected override void PreStart()
        {
            foreach (IActorRef guardian in Context.GetChildren())
            {
                Context.Watch(guardian);
            }
        }

        protected override void OnReceive(object message)
        {
            if (message is Terminated)
            {
                Context.System.Terminate();
                return;
            }

            Unhandled(message);
        }

        protected override SupervisorStrategy SupervisorStrategy() => Runtime.SupervisorStrategy.StoppingStrategy;
    }
}
