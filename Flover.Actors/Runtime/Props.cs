using System.Linq.Expressions;

namespace Flover.Actors.Runtime;

/// <summary>
/// The immutable recipe for an actor: how to create its instance, and its dispatcher, mailbox and
/// supervisor strategy. Props are safe to share and reuse; each <c>ActorOf</c> makes a new instance.
/// </summary>
public sealed class Props
{
    private readonly Func<ActorBase> _factory;

    private Props(Type type, Func<ActorBase> factory, string dispatcher, string mailbox, SupervisorStrategy? supervisorStrategy)
    {
        Type = type;
        _factory = factory;
        Dispatcher = dispatcher;
        Mailbox = mailbox;
        SupervisorStrategy = supervisorStrategy;
    }

    /// <summary>The id of the default dispatcher.</summary>
    public const string DefaultDispatcherId = "akka.actor.default-dispatcher";

    /// <summary>The id of the default mailbox.</summary>
    public const string DefaultMailboxId = "akka.actor.default-mailbox";

    /// <summary>Props of an actor that handles nothing.</summary>
    public static Props Empty { get; } = Create<EmptyActor>();

    /// <summary>The actor type.</summary>
    public Type Type { get; }

    /// <summary>The dispatcher id (a configuration path such as <c>akka.actor.default-dispatcher</c>).</summary>
    public string Dispatcher { get; }

    /// <summary>The mailbox id (a configuration path).</summary>
    public string Mailbox { get; }

    /// <summary>The strategy supervising this actor's children, overriding the actor's own <c>SupervisorStrategy()</c>.</summary>
    public SupervisorStrategy? SupervisorStrategy { get; }

    /// <summary>Props for <typeparamref name="TActor"/> built with its parameterless constructor.</summary>
    public static Props Create<TActor>()
        where TActor : ActorBase, new() => new(typeof(TActor), static () => new TActor(), DefaultDispatcherId, DefaultMailboxId, null);

    /// <summary>Props for the actor the expression <c>() =&gt; new T(...)</c> creates (compiled once).</summary>
    public static Props Create<TActor>(Expression<Func<TActor>> factory)
        where TActor : ActorBase
    {
        ArgumentNullException.ThrowIfNull(factory);
        Func<TActor> compiled = factory.Compile();
        return new Props(typeof(TActor), compiled, DefaultDispatcherId, DefaultMailboxId, null);
    }

    /// <summary>Props for <paramref name="type"/> built with the constructor matching <paramref name="args"/>.</summary>
    public static Props Create(Type type, params object?[] args)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (!typeof(ActorBase).IsAssignableFrom(type))
        {
            throw new ArgumentException($"{type} is not an actor type (it does not derive from ActorBase).", nameof(type));
        }

        return new Props(type, () => (ActorBase)Activator.CreateInstance(type, args)!, DefaultDispatcherId, DefaultMailboxId, null);
    }

    /// <summary>A copy running on dispatcher <paramref name="dispatcherId"/>.</summary>
    public Props WithDispatcher(string dispatcherId) => new(Type, _factory, dispatcherId, Mailbox, SupervisorStrategy);

    /// <summary>A copy using mailbox <paramref name="mailboxId"/>.</summary>
    public Props WithMailbox(string mailboxId) => new(Type, _factory, Dispatcher, mailboxId, SupervisorStrategy);

    /// <summary>A copy whose children are supervised by <paramref name="strategy"/>.</summary>
    public Props WithSupervisorStrategy(SupervisorStrategy strategy) => new(Type, _factory, Dispatcher, Mailbox, strategy);

    /// <summary>Creates a new actor instance (called by the runtime inside the actor's cell).</summary>
    internal ActorBase NewActor() => _factory();

    /// <inheritdoc />
    public override string ToString() => $"Props({Type.Name}, dispatcher={Dispatcher}, mailbox={Mailbox})";

    private sealed class EmptyActor : UntypedActor
    {
        protected override void OnReceive(object message) => Unhandled(message);
    }
}
