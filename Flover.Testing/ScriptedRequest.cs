using Akka.Actor;
using Flover.Actors.Inference;
using Flover.Gpu.Sampling;

namespace Flover.Testing;

/// <summary>One scripted request: its tokens on a timer, then one <see cref="Completed"/>; a <see cref="Cancel"/> or a stopped client ends it early.</summary>
internal sealed class ScriptedRequest : ReceiveActor, IWithTimers
{
    private readonly Generate _request;
    private readonly ScriptedReply.Stream _stream;
    private readonly IActorRef _client;
    private int _sent;

    public ScriptedRequest(Generate request, ScriptedReply.Stream stream, IActorRef client)
    {
        _request = request;
        _stream = stream;
        _client = client;
        Receive<Next>(_ => SendNext());
        Receive<Cancel>(_ => Finish(FinishReason.Cancelled, null));
        Receive<Terminated>(_ => Context.Stop(Self));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    // The first Next is scheduled by the engine while it handles the Generate (so a probe answered
    // after it proves the timer armed); each later one is armed before the token is sent, so a test
    // that has seen a token may advance virtual time at once.
    protected override void PreStart() => Context.Watch(_client);

    private void Schedule()
    {
        if (_stream.Interval > TimeSpan.Zero)
        {
            Timers.StartSingleTimer("next", Next.Instance, _stream.Interval);
        }
        else
        {
            Self.Tell(Next.Instance);
        }
    }

    private void SendNext()
    {
        if (_sent == _stream.Texts.Length)
        {
            Finish(_stream.Finish, _stream.Error);
            return;
        }

        var token = new Token(_sent, _stream.TokenIds[_sent], _stream.Texts[_sent]) { CorrelationId = _request.CorrelationId };
        _sent++;
        Schedule();
        _client.Tell(token, Self);
    }

    private void Finish(FinishReason reason, string? error)
    {
        Timers.CancelAll();
        // Without a tokenizer, a text prompt counts its characters.
        int prompt = _request.PromptTokenIds.Count > 0 ? _request.PromptTokenIds.Count : (_request.PromptText?.Length ?? 0);
        _client.Tell(new Completed(reason, new Usage(prompt, _sent), string.Empty, error) { CorrelationId = _request.CorrelationId }, Self);
        Context.Stop(Self);
    }

    /// <summary>Send the next token (or the ending).</summary>
    internal sealed record Next : INoSerializationVerificationNeeded
    {
        public static Next Instance { get; } = new();
    }
}
