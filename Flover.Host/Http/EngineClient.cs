using System.Threading.Channels;
using Flover.Actors.Inference;
using Flover.Actors.Runtime;
using Microsoft.AspNetCore.Http;

namespace Flover.Host.Http;

/// <summary>
/// The one place HTTP requests are admitted to the engine: every endpoint calls
/// <see cref="Start"/>. It counts the requests in flight, refuses new ones once a drain has
/// begun (<see cref="DrainAsync"/>), and owns the metrics every request is recorded in. The
/// engine's own queue cap (<c>flover.engine.max-waiting</c>) answers with a
/// <see cref="Rejected"/> that the endpoints turn into a 429.
/// </summary>
internal sealed partial class EngineClient
{
    private readonly IActorRefFactory _actors;
    private readonly IActorRef _engine;
    // Guards _active and _draining together, so a request released while a drain starts is
    // never missed (the drain's "idle" signal depends on both).
    private readonly Lock _gate = new();
    private readonly HashSet<GenerationStream> _active = [];
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _draining;

    /// <param name="actors">Where the per-request bridge actors are created (the actor system).</param>
    /// <param name="engine">The <c>InferenceEngine</c> actor (or anything speaking its protocol).</param>
    /// <param name="metrics">The engine's metrics (a private set when null: a scripted engine publishes nothing).</param>
    public EngineClient(IActorRefFactory actors, IActorRef engine, EngineMetrics? metrics = null)
    {
        _actors = actors;
        _engine = engine;
        Metrics = metrics ?? new EngineMetrics(0);
        Requests = new ServeMetrics(Metrics.Meter);
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
    /// <exception cref="ApiException">503: the server is draining.</exception>
    public GenerationStream Start(Generate request)
    {
        Channel<object> events = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var timing = new RequestTiming();
        lock (_gate)
        {
            if (_draining)
            {
                throw ShuttingDown();
            }

            IActorRef bridge = _actors.ActorOf(Props.Create(typeof(StreamBridgeActor), _engine, request, events.Writer, timing));
            var stream = new GenerationStream(events.Reader, bridge, timing, Release);
            _active.Add(stream);
            return stream;
        }
    }

    /// <summary>Asks the decode loop for its state; null when it does not answer within <paramref name="timeout"/> (stuck, or stopped).</summary>
    public async Task<EngineStatus?> ProbeAsync(TimeSpan timeout, CancellationToken cancellation)
    {
        try
        {
            return await _engine.Ask<EngineStatus>(ProbeEngine.Instance, timeout, cancellation).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AskTimeoutException or OperationCanceledException)
        {
            return null;
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
