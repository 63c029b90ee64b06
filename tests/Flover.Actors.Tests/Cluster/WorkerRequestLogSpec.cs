using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Flover.Actors.Cluster;
using Flover.Actors.Inference;
using Flover.Gpu.Sampling;
using Xunit.Abstractions;
using ConfigurationFactory = Akka.Configuration.ConfigurationFactory;

namespace Flover.Actors.Tests.Cluster;

/// <summary>
/// A worker's log lines about a relayed request (<see cref="WorkerRequestActor"/>, behind the
/// <see cref="WorkerAgent"/>): each one names the frontend's request id (the attempt's correlation
/// id), and the request's messages still flow between the frontend and the engine's request actor.
/// The engine, the engine's request actor and the frontend are probes; every line is captured as
/// it is logged, and each step waits for the message the actor sends right after its line.
/// </summary>
public sealed class WorkerRequestLogSpec(ITestOutputHelper output)
    : TestKit(
        ConfigurationFactory.ParseString("""
            akka.loglevel = DEBUG
            # The agent's drain (a shutdown task) would wait for the probe engine to empty: there is none to wait for here.
            akka.coordinated-shutdown.run-by-actor-system-terminate = off
            """).WithFallback(AkkaTestConfig.Default),
        output: output)
{
    /// <summary>An attempt id as a frontend makes it: its request id, @, the attempt.</summary>
    private const string Id = "cmpl-4f2a9c@2";

    private readonly ConcurrentQueue<LogEvent> _lines = new();

    [Fact]
    public void A_request_that_streams_and_is_cancelled_is_logged_with_its_id_at_accept_start_cancel_and_finish()
    {
        (IActorRef agent, TestProbe engine) = Agent();
        TestProbe frontend = CreateTestProbe();
        TestProbe engineRequest = CreateTestProbe();

        frontend.Send(agent, Request() with { ContinueFrom = [5, 6] });
        Assert.Equal(Id, engine.ExpectMsg<Generate>().CorrelationId);
        IActorRef relay = engine.LastSender;
        engineRequest.Send(relay, new Token(2, 42, "x") { CorrelationId = Id });
        Assert.Equal(2, frontend.ExpectMsg<Token>().Index);
        Assert.Equal(relay, frontend.LastSender);
        engineRequest.Send(relay, new Token(3, 43, "y") { CorrelationId = Id });
        frontend.ExpectMsg<Token>();
        frontend.Send(relay, Cancel.Instance);
        engineRequest.ExpectMsg<Cancel>();
        Watch(relay);
        engineRequest.Send(relay, new Completed(FinishReason.Cancelled, new Usage(3, 4)) { CorrelationId = Id });
        Assert.Equal(FinishReason.Cancelled, frontend.ExpectMsg<Completed>().FinishReason);
        ExpectTerminated(relay);

        AssertLines(
            Lines(relay),
            $"Request {Id}: accepted from {frontend.Ref.Path.Address}, continuing after 2 tokens generated elsewhere.",
            $"Request {Id}: first token (index 2) after ",
            $"Request {Id}: cancelled by its frontend after 2 tokens here.",
            $"Request {Id}: finished (Cancelled) after 2 tokens here in ");
    }

    [Fact]
    public void A_failed_a_refused_and_an_abandoned_request_are_logged_with_their_ids()
    {
        (IActorRef agent, TestProbe engine) = Agent();
        TestProbe frontend = CreateTestProbe();
        TestProbe engineRequest = CreateTestProbe();

        frontend.Send(agent, Request());
        engine.ExpectMsg<Generate>();
        IActorRef failing = engine.LastSender;
        engineRequest.Send(failing, new Completed(FinishReason.Error, new Usage(3, 0), string.Empty, "a decode step failed") { CorrelationId = Id });
        Assert.Equal(FinishReason.Error, frontend.ExpectMsg<Completed>().FinishReason);

        frontend.Send(agent, Request());
        engine.ExpectMsg<Generate>();
        IActorRef refused = engine.LastSender;
        engineRequest.Send(refused, new Rejected("the engine is draining (shutting down) and takes no new requests", RejectionCode.Draining) { CorrelationId = Id });
        frontend.ExpectMsg<Rejected>();

        TestProbe leaving = CreateTestProbe();
        leaving.Send(agent, Request());
        engine.ExpectMsg<Generate>();
        IActorRef abandoned = engine.LastSender;
        Watch(abandoned);
        Sys.Stop(leaving.Ref);
        ExpectTerminated(abandoned);

        AssertLines(Lines(failing), $"Request {Id}: accepted from {frontend.Ref.Path.Address}.", $"Request {Id}: failed after 0 tokens here in ");
        Assert.EndsWith(": a decode step failed", Lines(failing)[1], StringComparison.Ordinal);
        AssertLines(Lines(refused), $"Request {Id}: accepted from", $"Request {Id}: refused (Draining): the engine is draining (shutting down) and takes no new requests");
        AssertLines(Lines(abandoned), $"Request {Id}: accepted from", $"Request {Id}: its frontend's request actor {leaving.Ref.Path} stopped ");
        Assert.Equal([typeof(Info), typeof(Warning)], _lines.Where(e => e.LogSource == failing.Path.ToString()).Select(e => e.GetType()));
    }

    [Fact]
    public void A_cancel_before_the_first_token_reaches_the_engine_with_that_token()
    {
        (IActorRef agent, TestProbe engine) = Agent();
        TestProbe client = CreateTestProbe();
        TestProbe engineRequest = CreateTestProbe();
        client.Send(agent, Request());
        engine.ExpectMsg<Generate>();
        IActorRef relay = engine.LastSender;

        client.Send(relay, Cancel.Instance);
        engineRequest.Send(relay, new Token(0, 42, "x") { CorrelationId = Id });

        engineRequest.ExpectMsg<Cancel>();
        client.ExpectMsg<Token>();
        AssertLines(Lines(relay), $"Request {Id}: accepted from", $"Request {Id}: cancelled by its frontend after 0 tokens here.", $"Request {Id}: first token (index 0) after ");
    }

    private static Generate Request() => new([1, 2, 3], new SamplingParameters { MaxTokens = 8 }) { CorrelationId = Id };

    /// <summary>The lines, each starting with its prefix (the rest holds times and addresses), no more, no fewer.</summary>
    private static void AssertLines(List<string> lines, params string[] prefixes)
    {
        Assert.True(lines.Count == prefixes.Length, $"expected {prefixes.Length} lines, logged: {string.Join(" | ", lines)}");
        for (int i = 0; i < prefixes.Length; i++)
        {
            Assert.StartsWith(prefixes[i], lines[i], StringComparison.Ordinal);
        }
    }

    /// <summary>Every line <paramref name="relay"/> logged, in order.</summary>
    private List<string> Lines(IActorRef relay) =>
        [.. _lines.Where(e => e.LogSource == relay.Path.ToString()).Select(e => e.Message?.ToString() ?? string.Empty)];

    private (IActorRef Agent, TestProbe Engine) Agent()
    {
        LogTap.Attach(Sys, _lines.Enqueue);
        TestProbe engine = CreateTestProbe();
        // The agent samples its engine's load: not what these tests look at.
        engine.IgnoreMessages(m => m is ProbeEngine);
        return (Sys.ActorOf(WorkerAgent.Props(engine.Ref, ClusterHarness.Tiny, TimeSpan.FromHours(1)), WorkerAgent.Name), engine);
    }
}
