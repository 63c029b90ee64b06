using Akka.Actor;
using Flover.Actors.Inference;
using Flover.Gpu.Sampling;

namespace ActorIntegration;

/// <summary>What <see cref="StoryWriter"/> reports when its story is done.</summary>
/// <param name="Text">The generated text.</param>
/// <param name="Tokens">Tokens received.</param>
/// <param name="Finish">Why the engine stopped.</param>
public sealed record StoryWritten(string Text, int Tokens, FinishReason Finish);

/// <summary>
/// A user's actor: asks the engine for a continuation of <c>opening</c> through the public messages
/// only (<see cref="Generate"/>, <see cref="Token"/>, <see cref="Completed"/>, <see cref="Rejected"/>),
/// collects the text, and tells <c>reportTo</c> once it is done.
/// </summary>
public sealed class StoryWriter : ReceiveActor
{
    private readonly System.Text.StringBuilder _text = new();
    private int _tokens;

    public StoryWriter(IActorRef engine, string opening, int maxTokens, IActorRef reportTo)
    {
        Receive<Token>(token =>
        {
            _text.Append(token.TextDelta);
            _tokens++;
        });
        Receive<Completed>(completed =>
        {
            _text.Append(completed.TrailingText);
            reportTo.Tell(new StoryWritten(_text.ToString(), _tokens, completed.FinishReason));
            Context.Stop(Self);
        });
        Receive<Rejected>(rejected =>
        {
            reportTo.Tell(new StoryWritten($"(rejected: {rejected.Reason})", 0, FinishReason.Error));
            Context.Stop(Self);
        });
        engine.Tell(Generate.FromText(opening, new SamplingParameters { Temperature = 0.8f, Seed = 7, MaxTokens = maxTokens }, correlationId: "story"));
    }

    /// <summary>Props of a writer of <paramref name="maxTokens"/> tokens after <paramref name="opening"/>.</summary>
    public static Props Props(IActorRef engine, string opening, int maxTokens, IActorRef reportTo) =>
        Akka.Actor.Props.Create(() => new StoryWriter(engine, opening, maxTokens, reportTo));
}
