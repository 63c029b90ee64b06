using System.Collections.Concurrent;
using Flover.Actors.Event;
using Flover.Actors.Runtime;
using Xunit.Sdk;

namespace Flover.Testing;

/// <summary>Starts expectations on log events and dead letters: <c>EventFilter.Exception&lt;T&gt;().ExpectOne(() =&gt; ...)</c>.</summary>
public sealed class EventFilterFactory
{
    private readonly TestKit _kit;

    internal EventFilterFactory(TestKit kit)
    {
        _kit = kit;
    }

    /// <summary>Error events whose cause is a <typeparamref name="T"/> (and whose message contains <paramref name="contains"/>).</summary>
    public EventFilter Exception<T>(string? contains = null)
        where T : Exception => new(_kit, e => e is Error { Cause: T } && Matches(e, contains), $"Error with {typeof(T).Name}");

    /// <summary>Error events.</summary>
    public EventFilter Error(string? contains = null) => new(_kit, e => e is Error && Matches(e, contains), "Error");

    /// <summary>Warning events.</summary>
    public EventFilter Warning(string? contains = null) => new(_kit, e => e is Warning && Matches(e, contains), "Warning");

    /// <summary>Info events.</summary>
    public EventFilter Info(string? contains = null) => new(_kit, e => e is Info && Matches(e, contains), "Info");

    /// <summary>Debug events.</summary>
    public EventFilter Debug(string? contains = null) => new(_kit, e => e is Flover.Actors.Event.Debug && Matches(e, contains), "Debug");

    /// <summary>Dead letters whose message is a <typeparamref name="T"/>.</summary>
    public EventFilter DeadLetter<T>() => new(_kit, e => e is Actors.Runtime.DeadLetter { Message: T }, $"DeadLetter of {typeof(T).Name}");

    private static bool Matches(object e, string? contains) =>
        contains is null || (e is LogEvent log && log.Message.Contains(contains, StringComparison.Ordinal));
}

/// <summary>Counts matching events published while a block runs, and asserts their number.</summary>
public sealed class EventFilter
{
    private readonly TestKit _kit;
    private readonly Func<object, bool> _matches;
    private readonly string _description;

    internal EventFilter(TestKit kit, Func<object, bool> matches, string description)
    {
        _kit = kit;
        _matches = matches;
        _description = description;
    }

    /// <summary>Runs <paramref name="action"/> and asserts exactly one matching event.</summary>
    public void ExpectOne(Action action) => Expect(1, action);

    /// <summary>Runs <paramref name="action"/> and asserts exactly <paramref name="expected"/> matching events (waiting up to <c>akka.test.filter-leeway</c>).</summary>
    public void Expect(int expected, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        var seen = new BlockingCollection<object>();
        IActorRef listener = _kit.Sys.ActorOf(Props.Create(() => new Listener(_matches, seen)));
        // Subscribing is synchronous, so nothing published after this line can be missed.
        _kit.Sys.EventStream.Subscribe(listener, typeof(LogEvent));
        _kit.Sys.EventStream.Subscribe(listener, typeof(Actors.Runtime.DeadLetter));
        try
        {
            action();
            TimeSpan leeway = _kit.Dilated(_kit.Sys.Settings.Config.GetTimeSpan("akka.test.filter-leeway", TimeSpan.FromSeconds(3)));
            int count = 0;
            DateTime deadline = DateTime.UtcNow + leeway;
            while (count < expected && seen.TryTake(out _, Max(TimeSpan.Zero, deadline - DateTime.UtcNow)))
            {
                count++;
            }

            // Events beyond the expected number that have already arrived fail the expectation too.
            while (seen.TryTake(out _))
            {
                count++;
            }

            if (count != expected)
            {
                throw new XunitException($"Expected {expected} {_description} event(s), but received {count}.");
            }
        }
        finally
        {
            _kit.Sys.EventStream.Unsubscribe(listener);
            _kit.Sys.Stop(listener);
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private sealed class Listener(Func<object, bool> matches, BlockingCollection<object> seen) : UntypedActor
    {
        protected override void OnReceive(object message)
        {
            if (matches(message))
            {
                seen.Add(message);
            }
        }
    }
}
