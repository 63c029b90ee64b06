using Akka.Actor;
using Flover.Actors.Inference;
using Flover.Actors.Serialization;
using Flover.Configuration;
using AkkaConfig = Akka.Configuration.Config;
using FloverConfig = Flover.Configuration.Config;

namespace Flover.Actors.Hosting;

/// <summary>
/// Flover's engine in your own <see cref="ActorSystem"/>: <see cref="Props"/> makes the
/// <see cref="InferenceEngine"/> actor for a model, with settings read by Flover's HOCON reader
/// (<c>flover.*</c>, see hocon/reference.conf). Talk to it with <see cref="Generate"/> and the
/// other public messages (docs/ACTORS.md).
/// </summary>
public static class FloverEngine
{
    private static readonly Lazy<FloverConfig> s_reference = new(ConfigurationFactory.Default);

    /// <summary>
    /// The Akka configuration the engine needs (its pinned dispatchers under
    /// <c>flover.dispatchers</c>, its serializer and bindings, Akka.Remote's frame size): add it as
    /// a fallback when you create your system (<c>yourConfig.WithFallback(FloverEngine.AkkaDefaults)</c>),
    /// so your settings win where you set something. <see cref="Props"/> injects it too.
    /// </summary>
    public static AkkaConfig AkkaDefaults => AkkaConfiguration.From(s_reference.Value);

    /// <summary>
    /// Props of an engine serving <paramref name="model"/> in <paramref name="system"/>. The
    /// checkpoint is opened now (a missing folder or a bad <c>config.json</c> throws here, one
    /// line); the model's shard actors load it when the engine starts, on their own threads, and it
    /// is closed once they have. Flover's Akka defaults (<see cref="AkkaDefaults"/>) are injected as
    /// a top-level fallback of the system and its serializer registered, so the system needs no
    /// configuration of ours. Each Props starts one engine.
    /// </summary>
    /// <param name="system">Your actor system.</param>
    /// <param name="model">The model.</param>
    /// <param name="settings">Flover's settings (<c>flover.*</c>, read with <c>Flover.Configuration</c>: <c>ConfigurationFactory.ParseString</c> or <c>FloverConfiguration.Load</c>); null for the defaults. Unset keys fall back to reference.conf.</param>
    /// <param name="metrics">Where the engine publishes its metrics (System.Diagnostics.Metrics), or null.</param>
    /// <exception cref="Gpu.FloverException">The model cannot be opened, or the settings do not fit it.</exception>
    /// <exception cref="ConfigurationException">A setting is invalid (the message names it).</exception>
    public static Props Props(ActorSystem system, FloverModel model, FloverConfig? settings = null, EngineMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(model);
        Prepare(system);
        FloverConfig config = settings is null ? s_reference.Value : settings.WithFallback(s_reference.Value);
        FloverSettings parsed = FloverSettings.From(config);
        OpenedModel opened = OpenedModel.Open(parsed, model);
        return InferenceEngine.Props(opened.Shards, opened.Loop, opened.Tokenizer, metrics: metrics, owned: opened.Weights);
    }

    /// <summary>Injects <see cref="AkkaDefaults"/> below <paramref name="system"/>'s configuration and registers Flover's serializer for its messages (idempotent).</summary>
    public static void Prepare(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        system.Settings.InjectTopLevelFallback(AkkaDefaults);
        // A system created without our configuration built its serializer table at start: add ours.
        if (system.Serialization.FindSerializerForType(typeof(Generate)) is ProtocolSerializer)
        {
            return;
        }

        var serializer = new ProtocolSerializer((ExtendedActorSystem)system);
        system.Serialization.AddSerializer("flover", serializer);
        foreach (Type type in ProtocolSerializer.MessageTypes)
        {
            system.Serialization.AddSerializationMap(type, serializer);
        }
    }
}
