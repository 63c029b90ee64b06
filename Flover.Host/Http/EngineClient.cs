using System.Threading.Channels;
using Akka.Actor;
using Akka.Hosting;
using Flover.Actors.Cluster;
using Flover.Actors.Inference;
using Microsoft.AspNetCore.Http;

namespace Flover.Host.Http;

/// <summary>
/// The one place HTTP requests are admitted to the engine: every endpoint calls
/// <see cref="Start"/>. It counts the requests in flight, refuses new ones once a drain has
/// begun (<see cref="DrainAsync"/>), and owns the metrics every request is recorded in. The
/// engine's own queue cap (<c>flover.engine.max-waiting</c>) answers with a
/// <see cref="Rejected"/> that the endpoints turn into a 429. The engine actor is looked up in the
/// actor system's <see cref="ActorRegistry"/> (registered under <see cref="InferenceEngine"/> when
/// the system starts); before it is there, requests get a 503 and readiness probes fail.
/// </summary>
internal sealed partial class EngineClient
{
    private readonly ActorSystem _actors;
    private IActorRef? _engine;
    // Guards _active and _draining together, so a request released while a drain starts is
    // never missed (the drain's "idle" signal depends on both).
    private readonly Lock _gate = new();
    private readonly HashSet<GenerationStream> _active = [];
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _draining;

    /// <param name="actors">The actor system: where the per-request bridge actors are created, and whose registry holds the engine (the <c>InferenceEngine</c> actor, or anything speaking its protocol).</param>
    /// <param name="metrics">The engine's metrics (a private set when null: a scripted engine publishes nothing).</param>
    /// <param name="registry">The server's Prometheus registry the per-request metrics are created on (a private one when null: nothing scrapes an embedded engine).</param>
    /// <param name="recent">Where finished requests' latencies go for the engine view (a private list when null).</param>
    public EngineClient(ActorSystem actors, EngineMetrics? metrics = null, Prometheus.CollectorRegistry? registry = null, Events.RecentRequests? recent = null)
    {
        _actors = actors;
        Metrics = metrics ?? new EngineMetrics(0);
        Requests = new ServeMetrics(registry ?? Prometheus.Metrics.NewCustomRegistry(), recent);
    }

    /// <summary>The engine's instruments (the decode loop's state and timings).</summary>
    public EngineMetrics Metrics { get; }

    /// <summary>The per-request instruments (status, finish reason, latencies).</summary>
    public ServeMetrics Requests { get; }

    /// <summary>True once a drain began: new requests are refused with 503.</summary>
    public bool Draining
    {
        get
        {
            lock (_gate)
            {
                return _draining;
            }
        }
    }

    /// <summary>Requests admitted and not yet answered.</summary>
    public int InFlight
    {
        get
        {
            lock (_gate)
            {
                return _active.Count;
            }
        }
    }

    /// <summary>Sends <paramref name="request"/> to the engine and returns its message stream.</summary>
    /// <exception cref="ApiException">503: the server is draining, or its engine has not started.</exception>
    public GenerationStream Start(Generate request)
    {
        IActorRef engine = Engine ?? throw new ApiException(StatusCodes.Status503ServiceUnavailable, "The engine is starting; try again shortly.", null, "engine_starting", ApiException.ServerError);
        Channel<object> events = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var timing = new RequestTiming();
        lock (_gate)
        {
            if (_draining)
            {
                throw ShuttingDown();
            }

            IActorRef bridge = _actors.ActorOf(Props.Create(() => new StreamBridgeActor(engine, request, events.Writer, timing)));
            var stream = new GenerationStream(events.Reader, bridge, timing, Release);
            _active.Add(stream);
            return stream;
        }
    }

    /// <summary>Asks the decode loop for its state; null when it does not answer within <paramref name="timeout"/> (stuck, or stopped).</summary>
    public async Task<EngineStatus?> ProbeAsync(TimeSpan timeout, CancellationToken cancellation)
    {
        if (Engine is not { } engine)
        {
            return null;
        }

        try
        {
            return await engine.Ask<EngineStatus>(ProbeEngine.Instance, timeout, cancellation).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AskTimeoutException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>
    /// The workers a cluster frontend's <c>ClusterEngine</c> knows (those that answered with a state
    /// and are reachable), or null when it did not answer within <paramref name="timeout"/> (or the
    /// engine is not started). Only for a cluster frontend: a node's own engine never answers.
    /// </summary>
    public async Task<IReadOnlyList<WorkerLoad>?> WorkersAsync(TimeSpan timeout, CancellationToken cancellation)
    {
        if (Engine is not { } engine)
        {
            return null;
        }

        try
        {
            return (await engine.Ask<WorkerList>(ListWorkers.Instance, timeout, cancellation).ConfigureAwait(false)).Workers;
        }
        catch (Exception e) when (e is AskTimeoutException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>The engine actor, once the actor system has started it (looked up once, then kept).</summary>
    private IActorRef? Engine
    {
        get
        {
            if (_engine is null && ActorRegistry.For(_actors).TryGet<InferenceEngine>(out IActorRef engine))
            {
                // A benign race: two threads may both look it up; they find the same reference.
                _engine = engine;
            }

            return _engine;
        }
    }

    /// <summary>The 503 for a request that arrives while the server drains.</summary>
    public static ApiException ShuttingDown() =>
        new(StatusCodes.Status503ServiceUnavailable, "The server is shutting down and accepts no new requests.", null, "server_shutting_down", ApiException.ServerError);

    private void Release(GenerationStream stream)
    {
        lock (_gate)
        {
            if (_active.Remove(stream) && _draining && _active.Count == 0)
            {
                _idle.TrySetResult();
            }
        }
    }
}
