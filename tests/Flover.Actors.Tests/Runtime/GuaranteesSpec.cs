using Flover.Actors.Runtime;
using Flover.Testing;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Runtime;

/// <summary>The runtime's core guarantees under concurrent senders.</summary>
[Trait("Category", "Slow")]
public sealed class GuaranteesSpec(ITestOutputHelper output) : TestKit(output: output)
{
    private const int Senders = 4;
    private const int PerSender = 20_000;

    [Fact]
    public void Concurrent_senders_lose_nothing_duplicate_nothing_keep_per_sender_order_and_the_actor_sees_one_message_at_a_time()
    {
        var receiver = Sys.ActorOf(Props.Create(() => new OrderChecker(Senders)));
        using var start = new Barrier(Senders);

        var threads = Enumerable.Range(0, Senders).Select(sender => new Thread(() =>
        {
            start.SignalAndWait();
            for (int i = 0; i < PerSender; i++)
            {
                receiver.Tell(new Numbered(sender, i), ActorRefs.NoSender);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        receiver.Tell("report");

        var report = ExpectMsg<Report>(TimeSpan.FromSeconds(30));
        Assert.Equal(Senders * PerSender, report.Received);
        Assert.Equal(0, report.OutOfOrder);
        Assert.Equal(1, report.MaxConcurrent);
    }

    [Fact]
    public async Task Actors_stopping_while_others_send_to_them_do_not_deadlock_the_system()
    {
        var targets = Enumerable.Range(0, 50).Select(_ => Sys.ActorOf(Props.Create(() => new Sink()))).ToList();
        using var start = new Barrier(3);
        var sender = new Thread(() =>
        {
            start.SignalAndWait();
            for (int round = 0; round < 200; round++)
            {
                foreach (IActorRef target in targets)
                {
                    target.Tell(round, ActorRefs.NoSender);
                }
            }
        });
        var stopper = new Thread(() =>
        {
            start.SignalAndWait();
            foreach (IActorRef target in targets)
            {
                Sys.Stop(target);
            }
        });
        sender.Start();
        stopper.Start();
        start.SignalAndWait();
        sender.Join();
        stopper.Join();

        foreach (IActorRef target in targets)
        {
            Watch(target);
            ExpectTerminated(target);
        }

        await Sys.Terminate().WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Tens_of_thousands_of_back_to_back_asks_all_complete_with_no_lost_wakeup()
    {
        // Each round trip parks and re-schedules both mailboxes; a schedule lost between a
        // mailbox going idle and a new post would leave one Ask waiting for ever.
        var echo = Sys.ActorOf(Props.Create(() => new Echo()));
        for (int i = 0; i < 30_000; i++)
        {
            Assert.Equal(i, await echo.Ask<int>(i, TimeSpan.FromSeconds(10)));
        }
    }

    private sealed class Echo : UntypedActor
    {
        protected override void OnReceive(object message) => Sender.Tell(message);
    }

    private sealed record Numbered(int Sender, int Sequence);

    private sealed record Report(int Received, int OutOfOrder, int MaxConcurrent);

    private sealed class OrderChecker : UntypedActor
    {
        private readonly int[] _next;
        private int _received;
        private int _outOfOrder;
        private int _inside;
        private int _maxConcurrent;

        public OrderChecker(int senders)
        {
            _next = new int[senders];
        }

        protected override void OnReceive(object message)
        {
            int inside = Interlocked.Increment(ref _inside);
            _maxConcurrent = Math.Max(_maxConcurrent, inside);
            if (message is Numbered numbered)
            {
                _received++;
                if (numbered.Sequence != _next[numbered.Sender])
                {
                    _outOfOrder++;
                }

                _next[numbered.Sender] = numbered.Sequence + 1;
            }
            else if (message is "report")
            {
                Sender.Tell(new Report(_received, _outOfOrder, _maxConcurrent));
            }

            Interlocked.Decrement(ref _inside);
        }
    }

    private sealed class Sink : UntypedActor
    {
        protected override void OnReceive(object message)
        {
        }
    }
}
