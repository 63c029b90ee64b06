using System.Threading.Channels;
using Flover.Actors.Inference;
using Flover.Actors.Runtime;

namespace Flover.Host.Http;

/// <summary>
/// The one place HTTP requests are admitted to the engine: every endpoint calls
/// <see cref="Start"/>. (Admission control, such as a 429 when too many requests wait, belongs
/// here.)
/// </summary>
internal sealed class EngineClient
{
    private readonly IActorRefFactory _actors;
    private readonly IActorRef _engine;

    /// <param name="actors">Where the per-request bridge actors are created (the actor system).</param>
    /// <param name="engine">The <c>InferenceEngine</c> actor (or anything speaking its protocol).</param>
    public EngineClient(IActorRefFactory actors, IActorRef engine)
    {
        _actors = actors;
        _engine = engine;
    }

    /// <summary>Sends <paramref name="request"/> to the engine and returns its message stream.</summary>
    public GenerationStream Start(Generate request)
    {
        Channel<object> events = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        IActorRef bridge = _actors.ActorOf(Props.Create(typeof(StreamBridgeActor), _engine, request, events.Writer));
        return new GenerationStream(events.Reader, bridge);
    }
}
