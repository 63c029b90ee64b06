using Flover.Actors.Event;
using Flover.Actors.Runtime;
using Flover.Testing;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Runtime;

/// <summary>
/// Akka.NET's documented samples (ping-pong, supervision, death watch, ask), written as Akka.NET
/// code: only the using lines differ (Akka.Actor → Flover.Actors.Runtime, Akka.Event →
/// Flover.Actors.Event, Akka.TestKit.Xunit2 → Flover.Testing).
/// </summary>
public sealed class AkkaSamplesSpec(ITestOutputHelper output) : TestKit(output: output)
{
    [Fact]
    public void PingPong_actors_exchange_messages_until_the_count_is_reached()
    {
        var ponger = Sys.ActorOf(Props.Create(() => new Ponger()), "ponger");
        var pinger = Sys.ActorOf(Props.Create(() => new Pinger(ponger, 5, TestActor)), "pinger");

        pinger.Tell("start");

        Assert.Equal(5, ExpectMsg<int>());
    }

    [Fact]
    public void Supervision_restarts_a_child_on_ArithmeticException_and_stops_it_on_NotSupportedException()
    {
        var supervisor = Sys.ActorOf(Props.Create(() => new Supervisor()), "supervisor");
        supervisor.Tell(Props.Create(() => new Child()));
        var child = ExpectMsg<IActorRef>();

        child.Tell(42);
        child.Tell("get");
        ExpectMsg(42);
        child.Tell(new ArithmeticException());
        child.Tell("get");
        ExpectMsg(0);

        Watch(child);
        child.Tell(new NotSupportedException());
        ExpectTerminated(child);
    }

    [Fact]
    public void DeathWatch_tells_the_watcher_when_the_watched_actor_stops()
    {
        var watcher = Sys.ActorOf(Props.Create(() => new WatchActor(TestActor)), "watcher");

        watcher.Tell("kill");

        ExpectMsg("finished");
    }

    [Fact]
    public async Task Ask_returns_the_reply_as_a_task()
    {
        var echo = Sys.ActorOf(Props.Create(() => new Echo()), "echo");

        var reply = await echo.Ask<string>("hello", TimeSpan.FromSeconds(3));

        Assert.Equal("hello", reply);
    }

    private sealed class Ponger : ReceiveActor
    {
        public Ponger()
        {
            Receive<int>(n => Sender.Tell(n + 1));
        }
    }

    private sealed class Pinger : ReceiveActor
    {
        public Pinger(IActorRef ponger, int max, IActorRef reportTo)
        {
            var log = Context.GetLogger();
            Receive<string>(s => s == "start", _ => ponger.Tell(0));
            Receive<int>(n =>
            {
                log.Debug("ping {0}", n);
                if (n >= max)
                {
                    reportTo.Tell(n);
                }
                else
                {
                    ponger.Tell(n);
                }
            });
        }
    }

    private sealed class Supervisor : UntypedActor
    {
        protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(
            maxNrOfRetries: 10,
            withinTimeRange: TimeSpan.FromMinutes(1),
            localOnlyDecider: ex => ex switch
            {
                ArithmeticException => Directive.Restart,
                NotSupportedException => Directive.Stop,
                _ => Directive.Escalate,
            });

        protected override void OnReceive(object message)
        {
            if (message is Props props)
            {
                Sender.Tell(Context.ActorOf(props));
            }
        }
    }

    private sealed class Child : UntypedActor
    {
        private int _state;

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case Exception exception:
                    throw exception;
                case int x:
                    _state = x;
                    break;
                case "get":
                    Sender.Tell(_state);
                    break;
            }
        }
    }

    private sealed class WatchActor : ReceiveActor
    {
        private IActorRef _lastSender = Context.System.DeadLetters;

        public WatchActor(IActorRef reportTo)
        {
            var child = Context.ActorOf(Props.Empty, "child");
            Context.Watch(child);
            Receive<string>(s => s == "kill", _ =>
            {
                Context.Stop(child);
                _lastSender = reportTo;
            });
            Receive<Terminated>(t => t.ActorRef.Equals(child), _ => _lastSender.Tell("finished"));
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
