using System.Collections.Concurrent;
using Flover.Actors.Runtime;

namespace Flover.Testing;

/// <summary>A message received by a test actor or probe, with its sender.</summary>
/// <param name="Message">The message.</param>
/// <param name="Sender">Who sent it (dead letters when nobody).</param>
public sealed record MessageEnvelope(object Message, IActorRef Sender);

/// <summary>
/// The actor behind <c>TestActor</c> and every probe: queues every message for the test thread,
/// and watches actors on request (so their <see cref="Terminated"/> arrives in the same queue).
/// </summary>
internal sealed class TestActor : UntypedActor
{
    private readonly BlockingCollection<MessageEnvelope> _queue;

    public TestActor(BlockingCollection<MessageEnvelope> queue)
    {
        _queue = queue;
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case WatchRequest watch:
                Context.Watch(watch.Subject);
                break;
            case UnwatchRequest unwatch:
                Context.Unwatch(unwatch.Subject);
                break;
            default:
                _queue.Add(new MessageEnvelope(message, Sender));
                break;
        }
    }

    /// <summary>Asks the test actor to watch <paramref name="Subject"/>.</summary>
    internal sealed record WatchRequest(IActorRef Subject);

    /// <summary>Asks the test actor to stop watching <paramref name="Subject"/>.</summary>
    internal sealed record UnwatchRequest(IActorRef Subject);
}
