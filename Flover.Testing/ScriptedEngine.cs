using Akka.Actor;
using Flover.Actors.Inference;

namespace Flover.Testing;

/// <summary>
/// A deterministic stand-in for Flover's <c>InferenceEngine</c> that speaks the same public
/// protocol, for your actors' TestKit tests: each <see cref="Generate"/> is answered as
/// its script says (tokens at a pace in virtual time, a rejection, a failure), by a
/// request actor of its own that takes <see cref="Cancel"/> and watches the client, exactly as the
/// real engine's does; <see cref="ProbeEngine"/> and <see cref="StartDraining"/> are answered too.
/// With a paced script, send <see cref="ProbeEngine"/> after the <see cref="Generate"/> and wait for
/// its answer before advancing virtual time: the first token's timer is armed by then (and each
/// later one before the token before it is sent).
/// Every <see cref="Generate"/> it received is kept, in order (ask with <see cref="ReceivedRequests"/>).
/// </summary>
public sealed class ScriptedEngine : ReceiveActor
{
    private readonly Func<Generate, ScriptedReply> _script;
    private readonly List<Generate> _received = [];
    private readonly HashSet<IActorRef> _running = [];
    private bool _draining;

    /// <summary>An engine whose <paramref name="script"/> chooses the reply to each request.</summary>
    public ScriptedEngine(Func<Generate, ScriptedReply> script)
    {
        _script = script;
        Receive<Generate>(OnGenerate);
        Receive<ReceivedRequests>(_ => Sender.Tell(_received.ToArray()));
        Receive<ProbeEngine>(_ => Sender.Tell(new EngineStatus(_running.Count, 0, _running.Count, 0)));
        Receive<StartDraining>(_ =>
        {
            _draining = true;
            Sender.Tell(EngineDraining.Instance);
        });
        Receive<Terminated>(terminated => _running.Remove(terminated.ActorRef));
    }

    /// <summary>Props of an engine that answers every request with <paramref name="reply"/>.</summary>
    public static Props Props(ScriptedReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        return Props(_ => reply);
    }

    /// <summary>Props of an engine whose <paramref name="script"/> chooses the reply to each request.</summary>
    public static Props Props(Func<Generate, ScriptedReply> script)
    {
        ArgumentNullException.ThrowIfNull(script);
        return Akka.Actor.Props.Create(() => new ScriptedEngine(script));
    }

    private void OnGenerate(Generate generate)
    {
        _received.Add(generate);
        if (_draining)
        {
            Sender.Tell(new Rejected("the engine is draining (shutting down) and takes no new requests", RejectionCode.Draining) { CorrelationId = generate.CorrelationId });
            return;
        }

        ScriptedReply reply = _script(generate);
        if (reply is ScriptedReply.Rejection rejection)
        {
            Sender.Tell(rejection.Rejected with { CorrelationId = generate.CorrelationId });
            return;
        }

        IActorRef client = Sender;
        var stream = (ScriptedReply.Stream)reply;
        IActorRef request = Context.ActorOf(Akka.Actor.Props.Create(() => new ScriptedRequest(generate, stream, client)));
        Context.Watch(request);
        _running.Add(request);
        // Armed here, while the Generate is handled: a ProbeEngine sent after the Generate is
        // answered only once the first token's timer is set, so a test can advance virtual time.
        if (stream.Interval > TimeSpan.Zero)
        {
            Context.System.Scheduler.ScheduleTellOnce(stream.Interval, request, ScriptedRequest.Next.Instance, ActorRefs.NoSender);
        }
        else
        {
            request.Tell(ScriptedRequest.Next.Instance);
        }
    }
}

/// <summary>Asks a <see cref="ScriptedEngine"/> for every <see cref="Generate"/> it received (answered with an array, in arrival order).</summary>
public sealed record ReceivedRequests
{
    /// <summary>The single instance.</summary>
    public static ReceivedRequests Instance { get; } = new();
}
