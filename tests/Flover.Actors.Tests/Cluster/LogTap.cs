using Akka.Actor;
using Akka.Event;

namespace Flover.Actors.Tests.Cluster;

/// <summary>
/// An event-stream subscriber that hands each log event to <paramref name="onLog"/> on the thread
/// that logs it: an actor would handle it later, and not at all once its system stopped, so a test
/// that waits for what an actor did after logging (a message, a stop) then sees the line.
/// </summary>
internal sealed class LogTap(ExtendedActorSystem system, Action<LogEvent> onLog) : MinimalActorRef
{
    public override ActorPath Path { get; } = new RootActorPath(system.Provider.DefaultAddress) / "temp" / $"log-tap-{Guid.NewGuid():N}";

    public override IActorRefProvider Provider => system.Provider;

    /// <summary>Subscribes a tap to every log event of <paramref name="system"/>.</summary>
    public static void Attach(ActorSystem system, Action<LogEvent> onLog) =>
        system.EventStream.Subscribe(new LogTap((ExtendedActorSystem)system, onLog), typeof(LogEvent));

    protected override void TellInternal(object message, IActorRef sender)
    {
        if (message is LogEvent log)
        {
            onLog(log);
        }
    }
}
