namespace Flover.Actors.Runtime;

/// <summary>
/// An actor whose behaviour is a list of typed handlers registered in its constructor (or in
/// <see cref="Become(Action)"/>): the first handler whose type and predicate match a message
/// handles it; a message none matches is <c>Unhandled</c>.
/// </summary>
public abstract class ReceiveActor : UntypedActor
{
    private List<Handler>? _building = [];
    private List<Handler>? _initial;

    /// <inheritdoc />
    protected sealed override void OnReceive(object message)
    {
        // The constructor has finished by the time the first message arrives: freeze the handlers.
        if (_initial is null)
        {
            _initial = _building ?? [];
            _building = null;
        }

        if (!Dispatch(_initial, message))
        {
            Unhandled(message);
        }
    }

    /// <summary>Replaces the behaviour with the handlers <paramref name="configure"/> registers.</summary>
    protected void Become(Action configure) => Context.Become(Build(configure));

    /// <summary>Pushes the behaviour made of the handlers <paramref name="configure"/> registers.</summary>
    protected void BecomeStacked(Action configure) => Context.BecomeStacked(Build(configure));

    /// <summary>Handles messages of type <typeparamref name="T"/> that <paramref name="shouldHandle"/> accepts (all when null).</summary>
    protected void Receive<T>(Action<T> handler, Predicate<T>? shouldHandle = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Add(new Handler(typeof(T), m => shouldHandle is null || shouldHandle((T)m), m =>
        {
            handler((T)m);
            return true;
        }));
    }

    /// <summary>Handles messages of type <typeparamref name="T"/> that <paramref name="shouldHandle"/> accepts.</summary>
    protected void Receive<T>(Predicate<T> shouldHandle, Action<T> handler) => Receive(handler, shouldHandle);

    /// <summary>Handles messages of type <typeparamref name="T"/> for which <paramref name="handler"/> returns true.</summary>
    protected void Receive<T>(Func<T, bool> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Add(new Handler(typeof(T), static _ => true, m => handler((T)m)));
    }

    /// <summary>Handles messages of <paramref name="messageType"/>.</summary>
    protected void Receive(Type messageType, Action<object> handler, Predicate<object>? shouldHandle = null)
    {
        ArgumentNullException.ThrowIfNull(messageType);
        ArgumentNullException.ThrowIfNull(handler);
        Add(new Handler(messageType, m => shouldHandle is null || shouldHandle(m), m =>
        {
            handler(m);
            return true;
        }));
    }

    /// <summary>
    /// Handles messages of type <typeparamref name="T"/> with an asynchronous handler: the actor
    /// takes no other message until the returned task completes, and the code after each
    /// <c>await</c> runs inside the actor (with its <c>Context</c>, <c>Self</c> and <c>Sender</c>).
    /// </summary>
    protected void ReceiveAsync<T>(Func<T, Task> handler, Predicate<T>? shouldHandle = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Add(new Handler(typeof(T), m => shouldHandle is null || shouldHandle((T)m), m =>
        {
            ActorCell.Current!.RunAsyncHandler(() => handler((T)m), m);
            return true;
        }));
    }

    /// <summary>Handles any message not handled by an earlier handler.</summary>
    protected void ReceiveAny(Action<object> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Add(new Handler(typeof(object), static _ => true, m =>
        {
            handler(m);
            return true;
        }));
    }

    /// <summary>Handles any message with an asynchronous handler (see <see cref="ReceiveAsync{T}"/>).</summary>
    protected void ReceiveAnyAsync(Func<object, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Add(new Handler(typeof(object), static _ => true, m =>
        {
            ActorCell.Current!.RunAsyncHandler(() => handler(m), m);
            return true;
        }));
    }

    private Receive Build(Action configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        List<Handler>? outer = _building;
        _building = [];
        try
        {
            configure();
            List<Handler> handlers = _building;
            return message => Dispatch(handlers, message);
        }
        finally
        {
            _building = outer;
        }
    }

    private void Add(Handler handler)
    {
        if (_building is null)
        {
            throw new InvalidOperationException("Receive handlers can be registered only in the actor's constructor or inside Become(() => ...).");
        }

        _building.Add(handler);
    }

    private static bool Dispatch(List<Handler> handlers, object message)
    {
        foreach (Handler handler in handlers)
        {
            if (handler.MessageType.IsInstanceOfType(message) && handler.ShouldHandle(message) && handler.Handle(message))
            {
                return true;
            }
        }

        return false;
    }

    private sealed record Handler(Type MessageType, Predicate<object> ShouldHandle, Func<object, bool> Handle);
}
