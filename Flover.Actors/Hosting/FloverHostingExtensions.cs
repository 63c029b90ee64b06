using Akka.Hosting;
using Flover.Actors.Inference;
using FloverConfig = Flover.Configuration.Config;

namespace Flover.Actors.Hosting;

/// <summary>Flover's engine in an Akka.Hosting application.</summary>
public static class FloverHostingExtensions
{
    /// <summary>
    /// Adds Flover's Akka defaults as a fallback (your HOCON wins where it sets something) and, when
    /// the actor system starts, creates the engine for <paramref name="model"/> at
    /// <c>/user/<paramref name="name"/></c> and registers it in the <see cref="ActorRegistry"/>
    /// under <see cref="InferenceEngine"/> (<c>registry.Get&lt;InferenceEngine&gt;()</c>, or
    /// <c>IRequiredActor&lt;InferenceEngine&gt;</c> in your services).
    /// </summary>
    /// <param name="builder">The Akka.Hosting builder.</param>
    /// <param name="model">The model.</param>
    /// <param name="settings">Flover's settings (<c>flover.*</c>); null for the defaults.</param>
    /// <param name="name">The engine actor's name.</param>
    public static AkkaConfigurationBuilder WithFloverEngine(this AkkaConfigurationBuilder builder, FloverModel model, FloverConfig? settings = null, string name = "flover")
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(model);
        builder.AddHocon(FloverEngine.AkkaDefaults, HoconAddMode.Append);
        return builder.WithActors((system, registry) =>
        {
            var engine = system.ActorOf(FloverEngine.Props(system, model, settings), name);
            registry.Register<InferenceEngine>(engine);
        });
    }
}
