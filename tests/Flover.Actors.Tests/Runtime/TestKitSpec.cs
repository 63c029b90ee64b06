using Flover.Actors.Runtime;
using Flover.Testing;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Flover.Actors.Tests.Runtime;

/// <summary>The TestKit's own expectations fail when they should.</summary>
public sealed class TestKitSpec(ITestOutputHelper output) : TestKit(output: output)
{
    [Fact]
    public void ExpectMsg_fails_on_a_message_of_another_type_naming_both()
    {
        TestActor.Tell(42);

        var error = Assert.Throws<XunitException>(() => ExpectMsg<string>(TimeSpan.FromSeconds(1)));

        Assert.Contains("Int32 42", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExpectMsg_fails_after_its_timeout_when_nothing_arrives()
    {
        var error = Assert.Throws<XunitException>(() => ExpectMsg<string>(TimeSpan.FromMilliseconds(50)));

        Assert.Contains("Timeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExpectNoMsg_fails_when_a_message_arrives()
    {
        TestActor.Tell("surprise");

        Assert.Throws<XunitException>(() => ExpectNoMsg(TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public void FishForMessage_skips_until_a_match()
    {
        TestActor.Tell(1);
        TestActor.Tell("x");
        TestActor.Tell(2);

        Assert.Equal(2, FishForMessage<int>(i => i > 1));
    }

    [Fact]
    public void Within_fails_when_the_block_takes_longer_than_allowed()
    {
        Assert.Throws<XunitException>(() => Within(TimeSpan.FromMilliseconds(50), () => ExpectNoMsg(TimeSpan.FromMilliseconds(200))));
    }

    [Fact]
    public void Expectations_inside_Within_use_the_time_left_in_the_block()
    {
        var error = Assert.Throws<XunitException>(() => Within(TimeSpan.FromMilliseconds(100), () => ExpectMsg<string>()));

        Assert.Contains("Timeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_probe_replies_to_and_forwards_the_last_message()
    {
        var probe = CreateTestProbe();
        var other = CreateTestProbe();

        probe.Ref.Tell("question");
        probe.ExpectMsg("question");
        probe.Reply("answer");
        probe.Forward(other.Ref);

        ExpectMsg("answer");
        other.ExpectMsg("question");
        Assert.Equal(TestActor, other.LastSender);
    }

    [Fact]
    public void AwaitCondition_fails_with_the_message_when_the_condition_never_holds()
    {
        var error = Assert.Throws<XunitException>(() => AwaitCondition(() => false, TimeSpan.FromMilliseconds(60), message: "never"));

        Assert.Contains("never", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EventFilter_fails_when_the_expected_event_does_not_come()
    {
        var kit = new TestKit(ConfigurationFactoryHelper.ShortLeeway);
        try
        {
            Assert.Throws<XunitException>(() => kit.EventFilter.Error().ExpectOne(() => { }));
        }
        finally
        {
            kit.Dispose();
        }
    }

    [Fact]
    public void Time_factor_dilates_every_timeout()
    {
        var kit = new TestKit("akka.test.timefactor = 3");
        try
        {
            Assert.Equal(TimeSpan.FromSeconds(3), kit.Dilated(TimeSpan.FromSeconds(1)));
            Assert.Equal(TimeSpan.FromSeconds(9), kit.SingleExpectDefaultTimeout);
        }
        finally
        {
            kit.Dispose();
        }
    }

    [Fact]
    public async Task Terminate_stops_every_actor_and_completes_WhenTerminated()
    {
        var kit = new TestKit();
        var actor = kit.Sys.ActorOf(Props.Empty);
        await kit.Sys.Terminate().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(kit.Sys.WhenTerminated.IsCompletedSuccessfully);
        Assert.True(((LocalActorRef)actor).IsTerminated);
        kit.Dispose();
    }

    private static class ConfigurationFactoryHelper
    {
        public static string ShortLeeway => "akka.test.filter-leeway = 100ms";
    }
}
