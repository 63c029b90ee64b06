using Flover.Actors.Event;
using Flover.Actors.Runtime;
using Flover.Testing;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Runtime;

/// <summary>ReceiveActor, Become, ReceiveAsync, stash, selection, identity, logging and names.</summary>
public sealed class ActorBehaviourSpec(ITestOutputHelper output) : TestKit(output: output)
{
    [Fact]
    public void Tell_inside_a_test_uses_the_test_actor_as_implicit_sender()
    {
        var echo = Sys.ActorOf(Props.Create(() => new Echo()));

        echo.Tell("hi");

        ExpectMsg("hi");
        Assert.Equal(echo, LastSender);
    }

    [Fact]
    public void Forward_keeps_the_original_sender()
    {
        var echo = Sys.ActorOf(Props.Create(() => new Echo()));
        var forwarder = Sys.ActorOf(Props.Create(() => new Forwarder(echo)));

        forwarder.Tell("via");

        ExpectMsg("via");
        Assert.Equal(echo, LastSender);
    }

    [Fact]
    public void Receive_handlers_match_by_type_and_predicate_in_order_and_the_rest_is_unhandled()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Classifier()));
        var unhandled = CreateTestProbe();
        Sys.EventStream.Subscribe(unhandled.Ref, typeof(UnhandledMessage));

        actor.Tell(5);
        actor.Tell(-5);
        actor.Tell("text");
        actor.Tell(2.5);

        ExpectMsg("positive 5");
        ExpectMsg("int -5");
        ExpectMsg("any text");
        Assert.Equal(2.5, unhandled.ExpectMsg<UnhandledMessage>().Message);
    }

    [Fact]
    public void Become_BecomeStacked_and_UnbecomeStacked_switch_behaviours()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Switcher()));

        actor.Tell("state");
        actor.Tell("push");
        actor.Tell("state");
        actor.Tell("pop");
        actor.Tell("state");
        actor.Tell("become");
        actor.Tell("state");

        Assert.Equal(["normal", "pushed", "normal", "replaced"], ReceiveN(4));
    }

    [Fact]
    public void ReceiveAsync_holds_further_messages_until_the_task_completes_and_runs_continuations_in_the_actor()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var actor = Sys.ActorOf(Props.Create(() => new AsyncActor(gate.Task)));

        actor.Tell("slow");
        actor.Tell("fast");
        ExpectMsg("started slow");
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        gate.SetResult();

        ExpectMsg("finished slow in actor");
        Assert.Equal(actor, LastSender);
        ExpectMsg("started fast");
        ExpectMsg("finished fast in actor");
    }

    [Fact]
    public void A_failing_ReceiveAsync_task_is_a_failure_for_the_supervisor()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var actor = Sys.ActorOf(Props.Create(() => new AsyncActor(gate.Task)));
        actor.Tell("slow");
        ExpectMsg("started slow");

        EventFilter.Exception<InvalidOperationException>().ExpectOne(() => gate.SetException(new InvalidOperationException("async failure")));

        actor.Tell("fast");
        ExpectMsg("started fast");
    }

    [Fact]
    public void Stash_sets_messages_aside_and_UnstashAll_replays_them_in_order_before_new_ones()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Gatekeeper()));

        actor.Tell("a");
        actor.Tell("b");
        actor.Tell("open");
        actor.Tell("c");

        Assert.Equal(["a", "b", "c"], ReceiveN(3));
    }

    [Fact]
    public void Children_have_paths_under_their_parent_and_names_must_be_unique_and_legal()
    {
        var parent = Sys.ActorOf(Props.Create(() => new Parent()), "parent");
        parent.Tell("make");

        var child = ExpectMsg<IActorRef>();
        Assert.Equal($"akka://{Sys.Name}/user/parent/kid", child.Path.ToString());
        Assert.Equal("Actor name [kid] is not unique!", ExpectMsg<string>());
        Assert.Throws<InvalidActorNameException>(() => Sys.ActorOf(Props.Empty, "$reserved"));
        Assert.Throws<InvalidActorNameException>(() => Sys.ActorOf(Props.Empty, "has/slash"));
    }

    [Fact]
    public async Task ActorSelection_finds_actors_by_path_and_wildcard_and_Identify_answers_with_the_reference()
    {
        var parent = Sys.ActorOf(Props.Create(() => new Parent()), "sel");
        parent.Tell("make");
        var child = ExpectMsg<IActorRef>();
        ExpectMsg<string>();

        Sys.ActorSelection("/user/sel/kid").Tell(new Identify("id"));
        Assert.Equal(child, ExpectMsg<ActorIdentity>().Subject);
        Assert.Equal(child, await Sys.ActorSelection($"akka://{Sys.Name}/user/sel/k*").ResolveOne(TimeSpan.FromSeconds(1)));
        await Assert.ThrowsAsync<ActorNotFoundException>(() => Sys.ActorSelection("/user/nobody").ResolveOne(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void Context_GetLogger_publishes_log_events_with_the_actor_path_as_source()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Chatty()), "chatty");

        EventFilter.Info("hello from chatty").ExpectOne(() => actor.Tell("log"));
    }

    [Fact]
    public void Actor_paths_parse_and_print_with_their_address()
    {
        var path = ActorPath.Parse("akka.tcp://sys@host:2552/user/a/b");

        Assert.Equal("akka.tcp://sys@host:2552/user/a/b", path.ToString());
        Assert.Equal("b", path.Name);
        Assert.Equal(["user", "a"], path.Parent.Elements);
        Assert.Equal(path, ActorPath.Root(new Address("akka.tcp", "sys", "host", 2552)) / "user" / "a" / "b");
        Assert.Throws<FormatException>(() => ActorPath.Parse("not a path"));
    }

    [Fact]
    public void Creating_an_actor_with_new_outside_ActorOf_is_refused()
    {
        var error = Assert.Throws<ActorInitializationException>(() => new Echo());

        Assert.Contains("use ActorOf with Props", error.Message, StringComparison.Ordinal);
    }

    private sealed class Echo : ReceiveActor
    {
        public Echo() => ReceiveAny(m => Sender.Tell(m));
    }

    private sealed class Forwarder : ReceiveActor
    {
        public Forwarder(IActorRef target) => ReceiveAny(m => target.Forward(m));
    }

    private sealed class Classifier : ReceiveActor
    {
        public Classifier()
        {
            Receive<int>(i => i > 0, i => Sender.Tell($"positive {i}"));
            Receive<int>(i => Sender.Tell($"int {i}"));
            Receive<string>(s => Sender.Tell($"any {s}"));
        }
    }

    private sealed class Switcher : ReceiveActor
    {
        public Switcher()
        {
            Receive<string>(s => s == "push", _ => BecomeStacked(Pushed));
            Receive<string>(s => s == "become", _ => Become(Replaced));
            Receive<string>(_ => Sender.Tell("normal"));
        }

        private void Pushed()
        {
            Receive<string>(s => s == "pop", _ => UnbecomeStacked());
            Receive<string>(_ => Sender.Tell("pushed"));
        }

        private void Replaced() => Receive<string>(_ => Sender.Tell("replaced"));
    }

    private sealed class AsyncActor : ReceiveActor
    {
        public AsyncActor(Task gate)
        {
            ReceiveAsync<string>(async s =>
            {
                Sender.Tell($"started {s}");
                if (s == "slow")
                {
                    await gate;
                }
                else
                {
                    await Task.Yield();
                }

                // After the await we are back inside the actor: Context and Sender still work.
                Sender.Tell($"finished {s} {(Context.Self.Equals(Self) ? "in actor" : "outside")}");
            });
        }
    }

    private sealed class Gatekeeper : ReceiveActor, IWithUnboundedStash
    {
        public Gatekeeper()
        {
            Receive<string>(s => s == "open", _ =>
            {
                Become(() => Receive<string>(s => Sender.Tell(s)));
                Stash.UnstashAll();
            });
            Receive<string>(_ => Stash.Stash());
        }

        public IStash Stash { get; set; } = null!;
    }

    private sealed class Parent : ReceiveActor
    {
        public Parent()
        {
            Receive<string>(_ =>
            {
                Sender.Tell(Context.ActorOf(Props.Empty, "kid"));
                try
                {
                    Context.ActorOf(Props.Empty, "kid");
                }
                catch (InvalidActorNameException error)
                {
                    Sender.Tell(error.Message);
                }
            });
        }
    }

    private sealed class Chatty : ReceiveActor
    {
        public Chatty()
        {
            var log = Context.GetLogger();
            Receive<string>(_ => log.Info("hello from {0}", Self.Path.Name));
        }
    }
}
