using System.Runtime.CompilerServices;
using Flover.Actors.Runtime;
using Flover.Testing;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Runtime;

public sealed class SupervisionSpec(ITestOutputHelper output) : TestKit(output: output)
{
    [Fact]
    public void Resume_keeps_the_instance_and_its_state()
    {
        var child = MakeCounterUnder(_ => Directive.Resume);
        child.Tell(7);
        child.Tell("boom");
        child.Tell("get");

        ExpectMsg(new CounterState(7, Instance: 1));
    }

    [Fact]
    public void Restart_makes_a_fresh_instance_that_keeps_the_queued_messages()
    {
        var child = MakeCounterUnder(_ => Directive.Restart);
        child.Tell(7);
        child.Tell("boom");
        child.Tell(8);
        child.Tell("get");

        ExpectMsg("PreRestart boom");
        ExpectMsg("PostRestart");
        ExpectMsg(new CounterState(8, Instance: 2));
    }

    [Fact]
    public void Stop_directive_stops_the_child()
    {
        var child = MakeCounterUnder(_ => Directive.Stop);
        Watch(child);

        child.Tell("boom");

        ExpectTerminated(child);
    }

    [Fact]
    public void Escalate_fails_the_parent_which_its_own_supervisor_restarts()
    {
        var top = Sys.ActorOf(Props.Create(() => new Parent(_ => Directive.Restart, TestActor)));
        top.Tell(new MakeParent(_ => Directive.Escalate));
        var middle = ExpectMsg<IActorRef>();
        middle.Tell(new MakeCounter());
        var child = ExpectMsg<IActorRef>();
        Watch(child);

        child.Tell("boom");

        // The middle parent restarts; its default PreRestart stops the child first.
        ExpectMsg("Parent PreRestart");
        var next = ReceiveN(2);
        Assert.Contains("Parent PostRestart", next);
        Assert.Contains(next, m => m is Terminated t && t.ActorRef.Equals(child));
    }

    [Fact]
    public void Restarts_beyond_the_limit_within_the_window_stop_the_child()
    {
        var strategy = new OneForOneStrategy(2, TimeSpan.FromMinutes(1), _ => Directive.Restart);
        var parent = Sys.ActorOf(Props.Create(() => new Parent(_ => Directive.Restart, TestActor)).WithSupervisorStrategy(strategy));
        parent.Tell(new MakeCounter());
        var child = ExpectMsg<IActorRef>();
        Watch(child);

        child.Tell("boom");
        child.Tell("boom");
        child.Tell("boom");

        int restarts = 0;
        while (ReceiveOne(DefaultTimeout) is not Terminated)
        {
            restarts += Equals(LastMessage, "PostRestart") ? 1 : 0;
        }

        Assert.Equal(2, restarts);
    }

    [Fact]
    public void AllForOne_restarts_every_sibling_when_one_fails()
    {
        var parent = Sys.ActorOf(Props.Create(() => new Parent(_ => Directive.Restart, TestActor)).WithSupervisorStrategy(new AllForOneStrategy(_ => Directive.Restart)));
        parent.Tell(new MakeCounter());
        var first = ExpectMsg<IActorRef>();
        parent.Tell(new MakeCounter());
        var second = ExpectMsg<IActorRef>();
        second.Tell(5);

        first.Tell("boom");

        var restarts = ReceiveN(4);
        Assert.Equal(2, restarts.Count(m => Equals(m, "PostRestart")));
        second.Tell("get");
        // Instances 1 and 2 were the originals; the restarts made 3 and 4.
        ExpectMsg<CounterState>(state => state.Value == 0 && state.Instance >= 3);
    }

    [Fact]
    public void An_exception_in_the_constructor_stops_the_actor_by_default()
    {
        var failing = Sys.ActorOf(Props.Create(() => new FailingConstructor()));
        Watch(failing);

        ExpectTerminated(failing);
    }

    [Fact]
    public void Kill_stops_the_actor_by_default()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Counter(TestActor, new StrongBox<int>())));
        Watch(actor);

        actor.Tell(Kill.Instance);

        ExpectTerminated(actor);
    }

    [Fact]
    public void Child_restart_stats_allow_the_configured_restarts_per_window_then_refuse()
    {
        var stats = new ChildRestartStats();

        Assert.True(stats.RequestRestartPermission(2, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(0)));
        Assert.True(stats.RequestRestartPermission(2, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(1)));
        Assert.False(stats.RequestRestartPermission(2, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2)));
        Assert.True(stats.RequestRestartPermission(2, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20)));
        Assert.False(new ChildRestartStats().RequestRestartPermission(0, null, TimeSpan.Zero));
        Assert.True(new ChildRestartStats().RequestRestartPermission(-1, null, TimeSpan.Zero));
    }

    [Fact]
    public void Default_decider_stops_on_initialization_kill_and_death_pact_and_restarts_otherwise()
    {
        Assert.Equal(Directive.Stop, SupervisorStrategy.DefaultDecider(new ActorInitializationException(null, "x", null)));
        Assert.Equal(Directive.Stop, SupervisorStrategy.DefaultDecider(new ActorKilledException("x")));
        Assert.Equal(Directive.Stop, SupervisorStrategy.DefaultDecider(new DeathPactException(ActorRefs.Nobody)));
        Assert.Equal(Directive.Restart, SupervisorStrategy.DefaultDecider(new InvalidOperationException()));
    }

    private IActorRef MakeCounterUnder(Func<Exception, Directive> decider)
    {
        var parent = Sys.ActorOf(Props.Create(() => new Parent(decider, TestActor)));
        parent.Tell(new MakeCounter());
        return ExpectMsg<IActorRef>();
    }

    private sealed record CounterState(int Value, int Instance);

    private sealed record MakeCounter;

    private sealed record MakeParent(Func<Exception, Directive> Decider);

    private sealed class Parent(Func<Exception, Directive> decider, IActorRef probe) : UntypedActor
    {
        private readonly StrongBox<int> _instances = new();

        protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(ex => decider(ex));

        protected override void PreRestart(Exception reason, object? message)
        {
            probe.Tell("Parent PreRestart");
            base.PreRestart(reason, message);
        }

        protected override void PostRestart(Exception reason) => probe.Tell("Parent PostRestart");

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case MakeCounter:
                    Sender.Tell(Context.ActorOf(Props.Create(() => new Counter(probe, _instances))));
                    break;
                case MakeParent make:
                    Sender.Tell(Context.ActorOf(Props.Create(() => new Parent(make.Decider, probe))));
                    break;
            }
        }
    }

    private sealed class Counter : UntypedActor
    {
        private readonly IActorRef _probe;
        private readonly int _instance;
        private int _state;

        public Counter(IActorRef probe, StrongBox<int> instances)
        {
            _probe = probe;
            _instance = ++instances.Value;
        }

        protected override void PreRestart(Exception reason, object? message)
        {
            _probe.Tell($"PreRestart {message}");
            base.PreRestart(reason, message);
        }

        protected override void PostRestart(Exception reason) => _probe.Tell("PostRestart");

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case "boom":
                    throw new InvalidOperationException("boom");
                case int value:
                    _state = value;
                    break;
                case "get":
                    Sender.Tell(new CounterState(_state, _instance));
                    break;
            }
        }
    }

    private sealed class FailingConstructor : UntypedActor
    {
        public FailingConstructor() => throw new InvalidOperationException("cannot start");

        protected override void OnReceive(object message)
        {
        }
    }
}
