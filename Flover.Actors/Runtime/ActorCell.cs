using Flover.Actors.Dispatch;
using Flover.Actors.Dispatch.SysMsg;

namespace Flover.Actors.Runtime;

/// <summary>
/// The runtime's side of one actor: its mailbox, instance, behaviour stack, children, watchers
/// and supervision state. Every field below is touched only by the thread currently running the
/// mailbox (one at a time, see <see cref="Mailbox"/>), except the children table, which
/// <c>system.ActorOf</c> may also reach from other threads and which is therefore locked.
/// Split by concern: Children, Lifecycle, DeathWatch, Supervision, Async, ReceiveTimeout.
/// </summary>
internal sealed partial class ActorCell : IUntypedActorContext
{
    [ThreadStatic]
    private static ActorCell? t_current;

    // The implicit sender outside any actor (the TestKit sets its TestActor here). AsyncLocal so
    // that it follows a test method across awaits.
    private static readonly AsyncLocal<IActorRef?> s_ambientSelf = new();

    private readonly ActorSystemImpl _system;
    private readonly Mailbox _mailbox;
    private readonly MessageDispatcher _dispatcher;
    private readonly List<Receive> _behaviors = [];
    private ActorBase? _actor;
    private IActorRef _sender;
    private object? _currentMessage;

    public ActorCell(ActorSystemImpl system, ActorPath path, Props props, IInternalActorRef parent, MessageDispatcher dispatcher, Mailbox mailbox)
    {
        _system = system;
        Props = props;
        Parent = parent;
        _dispatcher = dispatcher;
        _mailbox = mailbox;
        Self = new LocalActorRef(this, path);
        _sender = system.DeadLetters;
        mailbox.Attach(this, dispatcher);
        dispatcher.Attach(mailbox);
    }

    /// <summary>The cell whose actor is running on this thread, if any.</summary>
    public static ActorCell? Current => t_current;

    /// <summary>The implicit sender used outside actors on this async flow (set by the TestKit).</summary>
    public static IActorRef? AmbientSelf
    {
        get => s_ambientSelf.Value;
        set => s_ambientSelf.Value = value;
    }

    public LocalActorRef Self { get; }

    IActorRef IActorContext.Self => Self;

    public IActorRef Sender => _sender;

    public IInternalActorRef Parent { get; }

    IActorRef IActorContext.Parent => Parent;

    public Props Props { get; }

    public ActorSystem System => _system;

    public ActorSystemImpl SystemImpl => _system;

    public Mailbox Mailbox => _mailbox;

    public ActorBase? Actor => _actor;

    /// <summary>The message being processed (null between messages).</summary>
    public object? CurrentMessage => _currentMessage;

    /// <summary>True while the actor may take its next user message.</summary>
    public bool CanProcessUserMessages => _actor is not null && !_failed && !_terminating && !_awaitingAsync && !_restartPending;

    public static IActorRef? GetCurrentSelfOrNoSender() => t_current?.Self ?? AmbientSelf;

    public static IActorRef? GetCurrentSenderOrNoSender() => t_current?._sender;

    /// <summary>Queues the Create message: the instance is built on the actor's own dispatcher.</summary>
    public void Start() => _mailbox.PostSystem(new Create());

    public void Post(Envelope envelope) => _mailbox.Post(envelope);

    /// <summary>Processes one user message.</summary>
    public void Invoke(Envelope envelope)
    {
        ActorCell? previous = t_current;
        t_current = this;
        _sender = envelope.Sender ?? _system.DeadLetters;
        _currentMessage = envelope.Message;
        try
        {
            if (envelope.Message is IAutoReceivedMessage)
            {
                AutoReceive(envelope.Message);
            }
            else
            {
                ReceiveMessage(envelope.Message);
            }

            if (envelope.Message is not INotInfluenceReceiveTimeout)
            {
                RescheduleReceiveTimeout();
            }
        }
        catch (Exception exception)
        {
            HandleInvokeFailure(exception, envelope.Message);
        }
        finally
        {
            _currentMessage = null;
            t_current = previous;
        }
    }

    /// <summary>Processes one system message.</summary>
    public void SystemInvoke(SystemMessage message)
    {
        ActorCell? previous = t_current;
        t_current = this;
        try
        {
            switch (message)
            {
                case Create:
                    CreateActor();
                    break;
                case Terminate:
                    BeginTerminate();
                    break;
                case Watch watch:
                    AddWatcher(watch);
                    break;
                case Unwatch unwatch:
                    RemoveWatcher(unwatch);
                    break;
                case DeathWatchNotification notification:
                    HandleDeathWatchNotification(notification);
                    break;
                case Failed failed:
                    HandleChildFailed(failed);
                    break;
                case Recreate recreate:
                    FaultRecreate(recreate.Cause);
                    break;
                case Resume:
                    _failed = false;
                    break;
                case ExecuteContinuation continuation:
                    RunContinuation(continuation);
                    break;
                case AsyncReceiveCompleted completed:
                    CompleteAsyncReceive(completed);
                    break;
            }
        }
        catch (Exception exception)
        {
            HandleInvokeFailure(exception, null);
        }
        finally
        {
            t_current = previous;
        }
    }

    public void SendToDeadLetters(Envelope envelope)
    {
        object message = envelope.Message is DeadLetter ? envelope.Message : new DeadLetter(envelope.Message, envelope.Sender ?? ActorRefs.Nobody, Self);
        _system.DeadLetters.Tell(message, envelope.Sender);
    }

    public void PublishUnhandled(object message)
    {
        var unhandled = new UnhandledMessage(message, _sender, Self);
        _system.EventStream.Publish(unhandled);
        if (_system.Settings.DebugUnhandled)
        {
            _system.Log.Debug("Unhandled message from {0} to {1}: {2}", _sender.Path, Self.Path, message);
        }
    }

    public void ReportRuntimeError(Exception exception) =>
        _system.Log.Error(exception, "Internal error while running the mailbox of {0}", Self.Path);

    private void AutoReceive(object message)
    {
        switch (message)
        {
            case PoisonPill:
                Stop(Self);
                break;
            case Kill:
                throw new ActorKilledException("Kill");
            case Identify identify:
                _sender.Tell(new ActorIdentity(identify.MessageId, Self), Self);
                break;
            case WatchedActorTerminated watched:
                DeliverTerminated(watched);
                break;
            case ReceiveTimeoutTick tick:
                HandleReceiveTimeoutTick(tick);
                break;
            case TimerMessage timer:
                if (timer.Owner.Accept(timer) && ReferenceEquals((_actor as IWithTimers)?.Timers, timer.Owner))
                {
                    ReceiveMessage(timer.Message);
                }

                break;
            default:
                ReceiveMessage(message);
                break;
        }
    }

    private void ReceiveMessage(object message)
    {
        ActorBase actor = _actor!;
        if (!actor.AroundReceive(_behaviors[^1], message))
        {
            actor.InvokeUnhandled(message);
        }
    }

    public void Become(Receive receive)
    {
        ArgumentNullException.ThrowIfNull(receive);
        if (_behaviors.Count > 1)
        {
            _behaviors[^1] = receive;
        }
        else
        {
            _behaviors.Add(receive);
        }
    }

    public void BecomeStacked(Receive receive)
    {
        ArgumentNullException.ThrowIfNull(receive);
        _behaviors.Add(receive);
    }

    public void UnbecomeStacked()
    {
        if (_behaviors.Count > 1)
        {
            _behaviors.RemoveAt(_behaviors.Count - 1);
        }
    }

    public void Become(UntypedReceive receive)
    {
        ArgumentNullException.ThrowIfNull(receive);
        Become(message =>
        {
            receive(message);
            return true;
        });
    }

    public void BecomeStacked(UntypedReceive receive)
    {
        ArgumentNullException.ThrowIfNull(receive);
        BecomeStacked(message =>
        {
            receive(message);
            return true;
        });
    }

    public ActorSelection ActorSelection(string actorPath) => _system.SelectionFrom(Self, actorPath);

    public ActorSelection ActorSelection(ActorPath actorPath) => _system.ActorSelection(actorPath);

    public override string ToString() => $"ActorCell({Self.Path})";
}

/// <summary>The reference to a local actor: tells go straight into its mailbox.</summary>
internal sealed class LocalActorRef(ActorCell cell, ActorPath path) : ActorRefBase
{
    private readonly ActorPath _path = path.WithUid(ActorUid.Next());

    public ActorCell Cell { get; } = cell;

    public override ActorPath Path => _path;

    public override IInternalActorRef Parent => Cell.Parent;

    public override bool IsTerminated => Cell.IsTerminated;

    public override void Tell(object message, IActorRef? sender)
    {
        ArgumentNullException.ThrowIfNull(message);
        Cell.Post(new Envelope(message, sender));
    }

    public override void SendSystemMessage(SystemMessage message) => Cell.Mailbox.PostSystem(message);
}

/// <summary>Incarnation numbers: a restarted-from-scratch actor at the same path is a different reference.</summary>
internal static class ActorUid
{
    private static long s_next = Environment.TickCount64 & 0xFFFFFF;

    public static long Next() => Interlocked.Increment(ref s_next);
}
