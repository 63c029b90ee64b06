using Flover.Actors.Configuration;
using Flover.Actors.Runtime;
using Flover.Testing;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Runtime;

public sealed class DispatcherAndMailboxSpec(ITestOutputHelper output) : TestKit(
    """
    my-pinned { type = PinnedDispatcher }
    my-calling { type = CallingThreadDispatcher }
    tiny-mailbox { mailbox-type = "Akka.Dispatch.BoundedMailbox", mailbox-capacity = 2 }
    """,
    output)
{
    [Fact]
    public void A_pinned_actor_always_runs_on_its_own_dedicated_thread()
    {
        var actor = Sys.ActorOf(Props.Create(() => new ThreadReporter()).WithDispatcher("my-pinned"));

        actor.Tell("which");
        actor.Tell("which");
        var first = ExpectMsg<ThreadInfo>();
        var second = ExpectMsg<ThreadInfo>();

        Assert.Equal(first.Id, second.Id);
        Assert.False(first.IsThreadPool);
        Assert.Equal("my-pinned", first.Name);
    }

    [Fact]
    public void A_calling_thread_actor_has_processed_the_message_when_Tell_returns()
    {
        var seen = new List<int>();
        var actor = Sys.ActorOf(Props.Create(() => new Recorder(seen)).WithDispatcher("my-calling"));
        AwaitCondition(() => ((LocalActorRef)actor).Cell.Actor is not null);

        actor.Tell(1);
        int countAfterTell = seen.Count;

        Assert.Equal(1, countAfterTell);
        Assert.Equal(Environment.CurrentManagedThreadId, seen[0]);
    }

    [Fact]
    public void An_unknown_dispatcher_id_is_a_configuration_error_naming_it()
    {
        var error = Assert.Throws<ConfigurationException>(() => Sys.ActorOf(Props.Empty.WithDispatcher("no-such-dispatcher")));

        Assert.Contains("Dispatcher [no-such-dispatcher] not configured", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bounded_mailbox_sends_overflow_to_dead_letters_without_blocking_the_sender()
    {
        using var gate = new ManualResetEventSlim();
        var actor = Sys.ActorOf(Props.Create(() => new Blocker(gate)).WithMailbox("tiny-mailbox"));
        actor.Tell("block");
        ExpectMsg("blocked");

        EventFilter.DeadLetter<int>().Expect(2, () =>
        {
            for (int i = 0; i < 4; i++)
            {
                actor.Tell(i);
            }
        });
        gate.Set();

        Assert.Equal([0, 1], ReceiveN(2).Cast<int>());
    }

    [Fact]
    public void An_unknown_dispatcher_in_a_deployment_fails_the_system_at_start()
    {
        var error = Assert.Throws<ConfigurationException>(() => ActorSystem.Create("bad", ConfigurationFactory.ParseString("akka.actor.deployment { \"/worker\" { dispatcher = missing } }")));

        Assert.Contains("dispatcher [missing] is not configured", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_decode_loop_dispatcher_of_unknown_type_fails_the_system_at_start()
    {
        var error = Assert.Throws<ConfigurationException>(() => ActorSystem.Create("bad", ConfigurationFactory.ParseString("flover.dispatchers.decode-loop.type = Turbo")));

        Assert.Contains("Dispatcher [flover.dispatchers.decode-loop] has unknown type 'Turbo'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_log_level_fails_the_system_at_start_naming_the_key()
    {
        var error = Assert.Throws<ConfigurationException>(() => ActorSystem.Create("bad", ConfigurationFactory.ParseString("akka.loglevel = LOUD")));

        Assert.Contains("akka.loglevel", error.Message, StringComparison.Ordinal);
    }

    private sealed record ThreadInfo(int Id, bool IsThreadPool, string? Name);

    private sealed class ThreadReporter : UntypedActor
    {
        protected override void OnReceive(object message) =>
            Sender.Tell(new ThreadInfo(Environment.CurrentManagedThreadId, Thread.CurrentThread.IsThreadPoolThread, Thread.CurrentThread.Name));
    }

    private sealed class Recorder(List<int> seen) : UntypedActor
    {
        protected override void OnReceive(object message) => seen.Add(Environment.CurrentManagedThreadId);
    }

    private sealed class Blocker(ManualResetEventSlim gate) : UntypedActor
    {
        protected override void OnReceive(object message)
        {
            if (message is "block")
            {
                Sender.Tell("blocked");
                gate.Wait();
                return;
            }

            Sender.Tell(message);
        }
    }
}
