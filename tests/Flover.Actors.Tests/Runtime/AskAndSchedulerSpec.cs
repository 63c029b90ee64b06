using Flover.Actors.Runtime;
using Flover.Testing;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Runtime;

/// <summary>Ask, PipeTo, the scheduler, receive timeouts and timers, on virtual time.</summary>
public sealed class AskAndSchedulerSpec(ITestOutputHelper output) : TestKit(TestScheduler.Config, output: output)
{
    [Fact]
    public async Task A_Status_Failure_reply_fails_the_Ask_with_its_cause()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Replier(new Status.Failure(new InvalidOperationException("no")))));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => actor.Ask<string>("q", TimeSpan.FromSeconds(5)));

        Assert.Equal("no", error.Message);
    }

    [Fact]
    public async Task An_Ask_without_reply_fails_with_AskTimeoutException_when_virtual_time_passes_the_timeout()
    {
        var silent = Sys.ActorOf(Props.Empty);
        Task<string> ask = silent.Ask<string>("q", TimeSpan.FromSeconds(10));

        Scheduler.Advance(TimeSpan.FromSeconds(9));
        Assert.False(ask.IsCompleted);
        Scheduler.Advance(TimeSpan.FromSeconds(1));

        await Assert.ThrowsAsync<AskTimeoutException>(() => ask);
    }

    [Fact]
    public async Task A_cancelled_Ask_is_cancelled()
    {
        var silent = Sys.ActorOf(Props.Empty);
        using var cancellation = new CancellationTokenSource();
        Task<string> ask = silent.Ask<string>("q", null, cancellation.Token);

        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ask);
    }

    [Fact]
    public async Task A_reply_of_the_wrong_type_fails_the_Ask_with_InvalidCastException()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Replier(42)));

        await Assert.ThrowsAsync<InvalidCastException>(() => actor.Ask<string>("q", TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task PipeTo_sends_the_result_or_a_Status_Failure()
    {
        await Task.FromResult("done").PipeTo(TestActor);
        await Task.FromException<string>(new InvalidOperationException("bad")).PipeTo(TestActor);

        ExpectMsg("done");
        Assert.Equal("bad", ExpectMsg<Status.Failure>().Cause.Message);
    }

    [Fact]
    public void ScheduleTellOnce_delivers_after_the_delay_and_cancel_prevents_delivery()
    {
        Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromSeconds(2), TestActor, "kept", ActorRefs.NoSender);
        ICancelable cancelled = Sys.Scheduler.ScheduleTellOnceCancelable(TimeSpan.FromSeconds(1), TestActor, "dropped", ActorRefs.NoSender);
        cancelled.Cancel();

        Scheduler.Advance(TimeSpan.FromSeconds(1));
        ExpectNoMsg(TimeSpan.FromMilliseconds(50));
        Scheduler.Advance(TimeSpan.FromSeconds(1));

        ExpectMsg("kept");
    }

    [Fact]
    public void ScheduleTellRepeatedly_delivers_at_every_interval_until_cancelled()
    {
        ICancelable repeating = Sys.Scheduler.ScheduleTellRepeatedlyCancelable(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TestActor, "tick", ActorRefs.NoSender);

        Scheduler.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(["tick", "tick", "tick"], ReceiveN(3));
        repeating.Cancel();
        Scheduler.Advance(TimeSpan.FromSeconds(3));

        ExpectNoMsg(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public void ReceiveTimeout_fires_only_after_the_actor_has_been_idle_for_the_timeout()
    {
        var actor = Sys.ActorOf(Props.Create(() => new IdleWatcher(TestActor)));
        ExpectMsg("ready");

        Scheduler.Advance(TimeSpan.FromSeconds(4));
        actor.Tell("activity");
        ExpectMsg("activity");
        // Identify does not reset the timeout; its answer proves "activity" was fully processed.
        actor.Tell(new Identify(1));
        ExpectMsg<ActorIdentity>();
        Scheduler.Advance(TimeSpan.FromSeconds(4));
        ExpectNoMsg(TimeSpan.FromMilliseconds(50));
        Scheduler.Advance(TimeSpan.FromSeconds(1));

        ExpectMsg("timeout");
    }

    [Fact]
    public void Timers_deliver_single_and_periodic_messages_and_a_restarted_key_replaces_the_old_timer()
    {
        var actor = Sys.ActorOf(Props.Create(() => new TimerActor(TestActor)));
        ExpectMsg("ready");

        actor.Tell("restart-single");
        ExpectMsg("restarted");
        actor.Tell(new Identify(1));
        ExpectMsg<ActorIdentity>();
        Scheduler.Advance(TimeSpan.FromSeconds(1));
        ExpectMsg("periodic");
        Scheduler.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(["periodic", "single-2"], ReceiveN(2).OrderBy(m => m).ToArray());
        actor.Tell("cancel");
        ExpectMsg("cancelled");
        Scheduler.Advance(TimeSpan.FromSeconds(5));
        ExpectNoMsg(TimeSpan.FromMilliseconds(50));
    }

    private sealed class Replier(object reply) : UntypedActor
    {
        protected override void OnReceive(object message) => Sender.Tell(reply);
    }

    private sealed class IdleWatcher : ReceiveActor
    {
        public IdleWatcher(IActorRef probe)
        {
            SetReceiveTimeout(TimeSpan.FromSeconds(5));
            Receive<ReceiveTimeout>(_ =>
            {
                probe.Tell("timeout");
                SetReceiveTimeout(null);
            });
            Receive<string>(s => probe.Tell(s));
            probe.Tell("ready");
        }
    }

    private sealed class TimerActor : ReceiveActor, IWithTimers
    {
        public TimerActor(IActorRef probe)
        {
            Receive<string>(s => s == "restart-single", _ =>
            {
                Timers.StartSingleTimer("single", "single-2", TimeSpan.FromSeconds(2));
                probe.Tell("restarted");
            });
            Receive<string>(s => s == "cancel", _ =>
            {
                Timers.CancelAll();
                probe.Tell("cancelled");
            });
            Receive<string>(s => probe.Tell(s));
        }

        public ITimerScheduler Timers { get; set; } = null!;

        protected override void PreStart()
        {
            Timers.StartSingleTimer("single", "single-1", TimeSpan.FromSeconds(1));
            Timers.StartPeriodicTimer("periodic", "periodic", TimeSpan.FromSeconds(1));
            Self.Tell("ready", Context.System.DeadLetters);
        }
    }
}
