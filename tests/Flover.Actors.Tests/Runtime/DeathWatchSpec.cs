using Flover.Actors.Runtime;
using Flover.Testing;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Runtime;

public sealed class DeathWatchSpec(ITestOutputHelper output) : TestKit(output: output)
{
    [Fact]
    public void DeathWatch_must_notify_with_one_Terminated_message_when_actor_is_stopped()
    {
        var subject = Sys.ActorOf(Props.Empty);
        Watch(subject);
        Watch(subject);

        Sys.Stop(subject);

        ExpectTerminated(subject);
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void DeathWatch_must_notify_with_Terminated_when_watching_an_already_dead_actor()
    {
        var subject = Sys.ActorOf(Props.Empty);
        var probe = CreateTestProbe();
        probe.Watch(subject);
        Sys.Stop(subject);
        probe.ExpectTerminated(subject);

        Watch(subject);

        Assert.False(ExpectTerminated(subject).ExistenceConfirmed);
    }

    [Fact]
    public void An_unwatched_actor_sends_no_Terminated()
    {
        var subject = Sys.ActorOf(Props.Empty);
        Watch(subject);
        Unwatch(subject);

        Sys.Stop(subject);

        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void An_unhandled_Terminated_raises_DeathPactException_and_the_watcher_stops()
    {
        var subject = Sys.ActorOf(Props.Empty);
        var watcher = Sys.ActorOf(Props.Create(() => new IgnoringWatcher(subject)));
        Watch(watcher);

        EventFilter.Exception<DeathPactException>().ExpectOne(() => Sys.Stop(subject));

        ExpectTerminated(watcher);
    }

    [Fact]
    public void WatchWith_delivers_the_custom_message_instead_of_Terminated()
    {
        var subject = Sys.ActorOf(Props.Empty);
        Sys.ActorOf(Props.Create(() => new CustomWatcher(subject, TestActor)));
        ExpectMsg("watching");

        Sys.Stop(subject);

        ExpectMsg("subject gone");
    }

    [Fact]
    public void Messages_the_dead_actor_sent_arrive_before_its_Terminated()
    {
        var subject = Sys.ActorOf(Props.Create(() => new SendThenStop(TestActor)));
        Watch(subject);

        subject.Tell("go");

        ExpectMsg(1);
        ExpectMsg(2);
        ExpectTerminated(subject);
    }

    [Fact]
    public void Stopping_a_parent_stops_its_children_first_and_PostStop_runs_bottom_up()
    {
        var parent = Sys.ActorOf(Props.Create(() => new Tree(TestActor, 2)), "root");
        ExpectMsg("started");
        Watch(parent);

        Sys.Stop(parent);

        ExpectMsg("stopped 0");
        ExpectMsg("stopped 1");
        ExpectMsg("stopped 2");
        ExpectTerminated(parent);
    }

    [Fact]
    public async Task GracefulStop_completes_with_true_after_queued_messages_are_processed()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Echo()));
        actor.Tell("first");

        bool stopped = await actor.GracefulStop(TimeSpan.FromSeconds(5));

        Assert.True(stopped);
        ExpectMsg("first");
    }

    [Fact]
    public void PoisonPill_stops_after_the_messages_before_it()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Echo()));
        Watch(actor);

        actor.Tell("a");
        actor.Tell(PoisonPill.Instance);
        actor.Tell("b");

        ExpectMsg("a");
        ExpectTerminated(actor);
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Messages_to_a_stopped_actor_are_published_as_dead_letters()
    {
        var actor = Sys.ActorOf(Props.Empty);
        Watch(actor);
        Sys.Stop(actor);
        ExpectTerminated(actor);

        EventFilter.DeadLetter<string>().ExpectOne(() => actor.Tell("lost"));
    }

    private sealed class IgnoringWatcher : ReceiveActor
    {
        public IgnoringWatcher(IActorRef subject)
        {
            Context.Watch(subject);
            Receive<string>(_ => { });
        }
    }

    private sealed class CustomWatcher : ReceiveActor
    {
        public CustomWatcher(IActorRef subject, IActorRef probe)
        {
            Context.WatchWith(subject, "subject gone");
            ReceiveAny(m => probe.Tell(m));
            probe.Tell("watching");
        }
    }

    private sealed class SendThenStop(IActorRef probe) : UntypedActor
    {
        protected override void OnReceive(object message)
        {
            probe.Tell(1);
            probe.Tell(2);
            Context.Stop(Self);
        }
    }

    private sealed class Tree : UntypedActor
    {
        private readonly IActorRef _probe;
        private readonly int _depth;

        public Tree(IActorRef probe, int depth)
        {
            _probe = probe;
            _depth = depth;
            if (depth > 0)
            {
                Context.ActorOf(Props.Create(() => new Tree(probe, depth - 1)), "child");
            }
        }

        protected override void PreStart()
        {
            if (_depth == 2)
            {
                _probe.Tell("started");
            }
        }

        protected override void PostStop() => _probe.Tell($"stopped {_depth}");

        protected override void OnReceive(object message)
        {
        }
    }

    private sealed class Echo : ReceiveActor
    {
        public Echo()
        {
            ReceiveAny(m => Sender.Tell(m));
        }
    }
}
