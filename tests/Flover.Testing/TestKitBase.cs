using System.Collections.Concurrent;
using System.Diagnostics;
using Flover.Actors.Runtime;
using Xunit.Sdk;

namespace Flover.Testing;

/// <summary>
/// Expectations on the messages an actor (the test actor or a probe) receives, shared by
/// <see cref="TestKit"/> and <see cref="TestProbe"/>. Every timeout is multiplied by
/// <c>akka.test.timefactor</c>; inside <see cref="Within(TimeSpan, Action)"/> waits use what is
/// left of the block's time.
/// </summary>
public abstract partial class TestKitBase
{
    private readonly BlockingCollection<MessageEnvelope> _queue = [];
    private MessageEnvelope? _last;
    private long? _end;

    private protected TestKitBase(ActorSystem system, string testActorName)
    {
        Sys = system;
        TestActor = system.ActorOf(Props.Create(() => new TestActor(_queue)), testActorName);
    }

    /// <summary>The actor system under test.</summary>
    public ActorSystem Sys { get; }

    /// <summary>The actor whose received messages the expectations read.</summary>
    public IActorRef TestActor { get; }

    /// <summary>The sender of the last message received.</summary>
    public IActorRef LastSender => _last?.Sender ?? Sys.DeadLetters;

    /// <summary>The last message received.</summary>
    public object? LastMessage => _last?.Message;

    /// <summary>Messages received and not yet expected.</summary>
    public int QueuedMessageCount => _queue.Count;

    /// <summary><c>akka.test.single-expect-default</c>, dilated.</summary>
    public TimeSpan SingleExpectDefaultTimeout => Dilated(Sys.Settings.Config.GetTimeSpan("akka.test.single-expect-default", TimeSpan.FromSeconds(3)));

    /// <summary><c>akka.test.default-timeout</c>, dilated.</summary>
    public TimeSpan DefaultTimeout => Dilated(Sys.Settings.Config.GetTimeSpan("akka.test.default-timeout", TimeSpan.FromSeconds(5)));

    /// <summary>
    /// As Akka.NET: an explicit <paramref name="duration"/> is dilated and used as it is; without one,
    /// the time left in the enclosing <c>Within</c> block, or <c>akka.test.single-expect-default</c>.
    /// </summary>
    public TimeSpan RemainingOrDilated(TimeSpan? duration) =>
        duration is { } d ? Dilated(d) : _end is { } end ? Max(TimeSpan.Zero, Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), end)) : SingleExpectDefaultTimeout;

    /// <summary>Time left in the enclosing <c>Within</c> block (throws outside one).</summary>
    public TimeSpan Remaining => _end is not null ? RemainingOrDilated(null) : throw new InvalidOperationException("Remaining is only defined inside Within.");

    /// <summary>Multiplies <paramref name="duration"/> by <c>akka.test.timefactor</c>.</summary>
    public TimeSpan Dilated(TimeSpan duration) =>
        duration == Timeout.InfiniteTimeSpan ? duration : TimeSpan.FromTicks((long)(duration.Ticks * Sys.Settings.TestTimeFactor));

    /// <summary>Expects a message of type <typeparamref name="T"/> within the timeout.</summary>
    public T ExpectMsg<T>(TimeSpan? timeout = null, string? hint = null) =>
        ExpectMsgWhere<T>(_ => true, timeout, hint ?? $"a {typeof(T).Name}");

    /// <summary>Expects a message equal to <paramref name="message"/>.</summary>
    public T ExpectMsg<T>(T message, TimeSpan? timeout = null, string? hint = null) =>
        ExpectMsgWhere<T>(m => Equals(m, message), timeout, hint ?? $"{message}");

    /// <summary>Expects a message of type <typeparamref name="T"/> that <paramref name="isMessage"/> accepts.</summary>
    public T ExpectMsg<T>(Predicate<T> isMessage, TimeSpan? timeout = null, string? hint = null) =>
        ExpectMsgWhere(isMessage, timeout, hint ?? $"a {typeof(T).Name} matching the predicate");

    /// <summary>Expects a message of type <typeparamref name="T"/> and runs <paramref name="assert"/> on it.</summary>
    public T ExpectMsg<T>(Action<T> assert, TimeSpan? timeout = null, string? hint = null)
    {
        T message = ExpectMsg<T>(timeout, hint);
        assert(message);
        return message;
    }

    /// <summary>Expects a message of type <typeparamref name="T"/> sent by <paramref name="sender"/>.</summary>
    public T ExpectMsgFrom<T>(IActorRef sender, TimeSpan? timeout = null, string? hint = null)
    {
        T message = ExpectMsg<T>(timeout, hint);
        if (!LastSender.Equals(sender))
        {
            throw new XunitException($"Expected {typeof(T).Name} from {sender}, but it came from {LastSender}.");
        }

        return message;
    }

    /// <summary>Expects the <see cref="Terminated"/> of <paramref name="target"/> (watch it first).</summary>
    public Terminated ExpectTerminated(IActorRef target, TimeSpan? timeout = null, string? hint = null) =>
        ExpectMsgWhere<Terminated>(t => t.ActorRef.Equals(target), timeout, hint ?? $"Terminated of {target}");

    /// <summary>Asserts that no message arrives within <paramref name="duration"/>.</summary>
    public void ExpectNoMsg(TimeSpan duration)
    {
        TimeSpan wait = RemainingOrDilated(duration);
        if (_queue.TryTake(out MessageEnvelope? envelope, wait))
        {
            _last = envelope;
            throw new XunitException($"Expected no message for {wait.TotalMilliseconds} ms, but received {Describe(envelope)}.");
        }
    }

    /// <summary>Asserts that no message arrives within <c>akka.test.single-expect-default</c>.</summary>
    public void ExpectNoMsg() => ExpectNoMsg(SingleExpectDefaultTimeout);

    /// <summary>Receives one message within the timeout (null when none came).</summary>
    public object? ReceiveOne(TimeSpan? timeout = null)
    {
        if (_queue.TryTake(out MessageEnvelope? envelope, RemainingOrDilated(timeout)))
        {
            _last = envelope;
            return envelope.Message;
        }

        return null;
    }

    /// <summary>Receives exactly <paramref name="count"/> messages within the (total) timeout.</summary>
    public IReadOnlyList<object> ReceiveN(int count, TimeSpan? timeout = null)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(RemainingOrDilated(timeout ?? (_end is null ? DefaultTimeout : null)).TotalSeconds * Stopwatch.Frequency);
        var received = new List<object>(count);
        while (received.Count < count)
        {
            TimeSpan left = TimeSpan.FromSeconds(Math.Max(0, deadline - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
            if (!_queue.TryTake(out MessageEnvelope? envelope, left))
            {
                throw new XunitException($"Timeout while waiting for {count} messages: received only {received.Count} ({string.Join(", ", received)}).");
            }

            _last = envelope;
            received.Add(envelope.Message);
        }

        return received;
    }

    /// <summary>Receives messages, ignoring those <paramref name="isMessage"/> rejects, until one it accepts.</summary>
    public object FishForMessage(Predicate<object> isMessage, TimeSpan? timeout = null, string? hint = null) =>
        FishForMessage<object>(isMessage, timeout, hint);

    /// <summary>Receives messages until one of type <typeparamref name="T"/> that <paramref name="isMessage"/> accepts.</summary>
    public T FishForMessage<T>(Predicate<T> isMessage, TimeSpan? timeout = null, string? hint = null)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(RemainingOrDilated(timeout).TotalSeconds * Stopwatch.Frequency);
        var skipped = new List<object>();
        while (true)
        {
            TimeSpan left = TimeSpan.FromSeconds(Math.Max(0, deadline - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
            if (!_queue.TryTake(out MessageEnvelope? envelope, left))
            {
                throw new XunitException($"Timeout while fishing for {hint ?? typeof(T).Name}; skipped: {string.Join(", ", skipped)}.");
            }

            _last = envelope;
            if (envelope.Message is T typed && isMessage(typed))
            {
                return typed;
            }

            skipped.Add(envelope.Message);
        }
    }

    /// <summary>Makes the test actor watch <paramref name="actor"/>: its <see cref="Terminated"/> will be queued.</summary>
    public IActorRef Watch(IActorRef actor)
    {
        TestActor.Tell(new TestActor.WatchRequest(actor), TestActor);
        return actor;
    }

    /// <summary>Makes the test actor stop watching <paramref name="actor"/>.</summary>
    public IActorRef Unwatch(IActorRef actor)
    {
        TestActor.Tell(new TestActor.UnwatchRequest(actor), TestActor);
        return actor;
    }

    /// <summary>Creates an actor under /user.</summary>
    public IActorRef ActorOf(Props props, string? name = null) => Sys.ActorOf(props, name);

    /// <summary>Creates an actor of type <typeparamref name="TActor"/> under /user.</summary>
    public IActorRef ActorOf<TActor>(string? name = null)
        where TActor : ActorBase, new() => Sys.ActorOf(Props.Create<TActor>(), name);

    private T ExpectMsgWhere<T>(Predicate<T> accept, TimeSpan? timeout, string hint)
    {
        TimeSpan wait = RemainingOrDilated(timeout);
        if (!_queue.TryTake(out MessageEnvelope? envelope, wait))
        {
            throw new XunitException($"Timeout ({wait.TotalMilliseconds} ms) while waiting for {hint}.");
        }

        _last = envelope;
        if (envelope.Message is T typed && accept(typed))
        {
            return typed;
        }

        throw new XunitException($"Expected {hint}, but received {Describe(envelope)}.");
    }

    private static string Describe(MessageEnvelope envelope) =>
        $"{envelope.Message.GetType().Name} {envelope.Message} from {envelope.Sender}";

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
