using Akka.Actor;
using Flover.Actors.Inference;

namespace Flover.Host.Http.Events;

/// <summary>
/// Subscribes to the actor system's EventStream for <see cref="IterationSummary"/> and hands them to
/// the <see cref="EngineEventHub"/>, at most one per <see cref="MinInterval"/> however fast the loop
/// publishes (<c>flover.engine.iteration-events-interval</c> may be set to milliseconds): summaries
/// that arrive sooner are merged and sent when the interval has passed. The hub never blocks, so
/// this actor's mailbox never grows behind a slow viewer.
/// </summary>
internal sealed class EngineEventForwarder : ReceiveActor, IWithTimers
{
    /// <summary>Shortest time between two events to viewers: four a second at most.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(250);

    private readonly EngineEventHub _hub;
    private IterationSummary? _pending;
    private DateTimeOffset _lastSent = DateTimeOffset.MinValue;

    public EngineEventForwarder(EngineEventHub hub)
    {
        _hub = hub;
        Receive<IterationSummary>(OnSummary);
        Receive<Flush>(_ => Send());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(EngineEventHub hub) => Akka.Actor.Props.Create(() => new EngineEventForwarder(hub));

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(IterationSummary));

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    private void OnSummary(IterationSummary summary)
    {
        _pending = _pending is null ? summary : IterationSummaries.Merge(_pending, summary);
        TimeSpan since = Context.System.Scheduler.Now - _lastSent;
        if (since >= MinInterval)
        {
            Send();
        }
        else if (!Timers.IsTimerActive(nameof(Flush)))
        {
            // The merged summary goes out when the interval is over, so the last one before the
            // loop goes idle is never held back for good.
            Timers.StartSingleTimer(nameof(Flush), Flush.Instance, MinInterval - since);
        }
    }

    private void Send()
    {
        if (_pending is null)
        {
            return;
        }

        _hub.Publish(_pending);
        _pending = null;
        _lastSent = Context.System.Scheduler.Now;
    }

    private sealed class Flush
    {
        public static readonly Flush Instance = new();
    }
}
