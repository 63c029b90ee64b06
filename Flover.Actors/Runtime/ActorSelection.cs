namespace Flover.Actors.Runtime;

/// <summary>
/// The actors at a path, looked up when a message is sent: names, <c>..</c> for the parent and
/// <c>*</c> / <c>?</c> wildcards. Messages to no actor go to dead letters.
/// </summary>
public sealed class ActorSelection : ICanTell
{
    private readonly ActorSystemImpl _system;

    internal ActorSelection(ActorSystemImpl system, IActorRef anchor, IReadOnlyList<string> elements)
    {
        _system = system;
        Anchor = anchor;
        Elements = elements;
    }

    /// <summary>Where the path starts.</summary>
    public IActorRef Anchor { get; }

    /// <summary>The path elements below the anchor.</summary>
    public IReadOnlyList<string> Elements { get; }

    /// <summary>The path as text.</summary>
    public string PathString => "/" + string.Join('/', Elements);

    internal ActorSystem System => _system;

    /// <inheritdoc />
    public void Tell(object message, IActorRef? sender)
    {
        ArgumentNullException.ThrowIfNull(message);
        List<IActorRef> targets = Resolve();
        if (targets.Count == 0)
        {
            _system.DeadLetters.Tell(new DeadLetter(message, sender ?? ActorRefs.Nobody, _system.DeadLetters), sender);
            return;
        }

        foreach (IActorRef target in targets)
        {
            target.Tell(message, sender);
        }
    }

    /// <summary>The single actor the selection names; fails with <see cref="ActorNotFoundException"/> when there is none.</summary>
    public Task<IActorRef> ResolveOne(TimeSpan timeout)
    {
        List<IActorRef> targets = Resolve();
        return targets.Count > 0
            ? Task.FromResult(targets[0])
            : Task.FromException<IActorRef>(new ActorNotFoundException($"No actor at {Anchor.Path.ToString().TrimEnd('/')}{PathString}"));
    }

    /// <inheritdoc />
    public override string ToString() => $"ActorSelection[Anchor({Anchor.Path}), Path({PathString})]";

    private List<IActorRef> Resolve()
    {
        if (Anchor is not LocalActorRef start)
        {
            return [];
        }

        List<ActorCell> current = [start.Cell];
        foreach (string element in Elements)
        {
            var next = new List<ActorCell>();
            foreach (ActorCell cell in current)
            {
                if (element == "..")
                {
                    if (cell.Parent is LocalActorRef parent)
                    {
                        next.Add(parent.Cell);
                    }
                }
                else if (element.Contains('*', StringComparison.Ordinal) || element.Contains('?', StringComparison.Ordinal))
                {
                    foreach (IActorRef child in cell.GetChildren())
                    {
                        if (Wildcard.Matches(element, child.Path.Name))
                        {
                            next.Add(((LocalActorRef)child).Cell);
                        }
                    }
                }
                else if (cell.ChildByName(element) is { } child)
                {
                    next.Add(child.Cell);
                }
            }

            current = next;
        }

        return current.Where(c => !c.IsTerminated).Select(c => (IActorRef)c.Self).ToList();
    }

    private static class Wildcard
    {
        public static bool Matches(string pattern, string text) => Match(pattern.AsSpan(), text.AsSpan());

        private static bool Match(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
        {
            if (pattern.IsEmpty)
            {
                return text.IsEmpty;
            }

            if (pattern[0] == '*')
            {
                for (int skip = 0; skip <= text.Length; skip++)
                {
                    if (Match(pattern[1..], text[skip..]))
                    {
                        return true;
                    }
                }

                return false;
            }

            return !text.IsEmpty && (pattern[0] == '?' || pattern[0] == text[0]) && Match(pattern[1..], text[1..]);
        }
    }
}

/// <summary>No actor at the selected path.</summary>
public sealed class ActorNotFoundException(string message) : AkkaException(message);
