namespace Flover.Actors.Runtime;

internal sealed partial class ActorCell
{
    // Locked: system.ActorOf adds children of the /user guardian from any thread.
    private readonly Dictionary<string, LocalActorRef> _children = new(StringComparer.Ordinal);
    // Allocated on first use, like the death-watch sets: an idle leaf actor keeps none of them.
    private HashSet<IActorRef>? _stoppingChildren;
    private long _nextChildName;

    public IEnumerable<IActorRef> Children => GetChildren();

    public IEnumerable<IActorRef> GetChildren()
    {
        lock (_children)
        {
            return [.. _children.Values];
        }
    }

    public IActorRef Child(string name)
    {
        lock (_children)
        {
            return _children.TryGetValue(name, out LocalActorRef? child) ? child : ActorRefs.Nobody;
        }
    }

    internal LocalActorRef? ChildByName(string name)
    {
        lock (_children)
        {
            return _children.GetValueOrDefault(name);
        }
    }

    public IActorRef ActorOf(Props props, string? name = null) => MakeChild(props, name, systemGenerated: false);

    internal LocalActorRef MakeChild(Props props, string? name, bool systemGenerated)
    {
        ArgumentNullException.ThrowIfNull(props);
        if (name is null)
        {
            name = "$" + EncodeName(Interlocked.Increment(ref _nextChildName));
        }
        else if (systemGenerated)
        {
            ActorPathValidation.ValidateElement(name);
        }
        else
        {
            ActorPathValidation.ValidateUserName(name);
        }

        // Resolve dispatcher and mailbox first: a configuration error must not leave a half-made child.
        var dispatcher = _system.Dispatchers.Lookup(props.Dispatcher);
        var mailbox = _system.Mailboxes.Create(props.Mailbox);
        LocalActorRef child;
        lock (_children)
        {
            if (_terminating || IsTerminated)
            {
                throw new InvalidOperationException($"Cannot create child '{name}': {Self.Path} is stopping.");
            }

            if (_children.ContainsKey(name))
            {
                throw new InvalidActorNameException($"Actor name [{name}] is not unique!");
            }

            child = new ActorCell(_system, Self.Path / name, props, Self, dispatcher, mailbox).Self;
            _children.Add(name, child);
        }

        child.Cell.Start();
        return child;
    }

    public void Stop(IActorRef child)
    {
        ArgumentNullException.ThrowIfNull(child);
        if (child.Equals(Self))
        {
            // Stopping oneself is asynchronous too: the Terminate system message goes ahead of
            // any user message still queued.
            Self.SendSystemMessage(new Dispatch.SysMsg.Terminate());
            return;
        }

        if (child is IInternalActorRef internalRef)
        {
            if (IsChild(child))
            {
                (_stoppingChildren ??= []).Add(child);
            }

            internalRef.SendSystemMessage(new Dispatch.SysMsg.Terminate());
        }
    }

    private bool IsChild(IActorRef actor)
    {
        lock (_children)
        {
            return _children.TryGetValue(actor.Path.Name, out LocalActorRef? child) && child.Equals(actor);
        }
    }

    private int ChildCount
    {
        get
        {
            lock (_children)
            {
                return _children.Count;
            }
        }
    }

    /// <summary>Removes a terminated child; true when it was one of ours.</summary>
    private bool RemoveChild(IActorRef actor)
    {
        _stoppingChildren?.Remove(actor);
        _childStats?.Remove(actor);
        lock (_children)
        {
            if (_children.TryGetValue(actor.Path.Name, out LocalActorRef? child) && child.Equals(actor))
            {
                _children.Remove(actor.Path.Name);
                return true;
            }
        }

        return false;
    }

    private static string EncodeName(long number)
    {
        const string Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+~";
        Span<char> buffer = stackalloc char[12];
        int position = buffer.Length;
        do
        {
            buffer[--position] = Alphabet[(int)(number & 63)];
            number >>= 6;
        }
        while (number > 0);
        return new string(buffer[position..]);
    }
}
