using Akka.Actor;
using Flover.Gpu.Sampling;
using Flover.Gpu.Tokenization;

namespace Flover.Actors.Inference;

/// <summary>
/// One per request: registers with the decode loop, turns token ids into text with the
/// incremental decoder, matches stop sequences (holding back text that may start one), streams
/// <see cref="Token"/> messages to its client and ends with <see cref="Completed"/> or
/// <see cref="Rejected"/>. It watches its client: when the client stops (or sends
/// <see cref="Cancel"/>) the loop is told to cancel. It does not sample; the loop does.
/// </summary>
internal sealed class RequestActor : ReceiveActor
{
    private readonly long _id;
    private readonly Generate _request;
    private readonly IActorRef _client;
    private readonly IActorRef _loop;
    private readonly IIncrementalDecoder _decoder;
    private readonly StopSequenceMatcher _stops;
    private int _sent;
    private bool _stopSent;

    public RequestActor(long id, Generate request, IActorRef client, IActorRef loop, ITokenizer tokenizer)
    {
        _id = id;
        _request = request;
        _client = client;
        _loop = loop;
        _decoder = tokenizer.CreateIncrementalDecoder();
        _stops = new StopSequenceMatcher(request.StopSequences);
        Receive<LoopToken>(OnToken);
        Receive<LoopFinished>(OnDone);
        Receive<LoopRejected>(rejected =>
        {
            _client.Tell(new Rejected(rejected.Reason, rejected.QueueFull), Self);
            Context.Stop(Self);
        });
        Receive<Cancel>(_ => _loop.Tell(new CancelRequest(_id), Self));
        Receive<Terminated>(t => t.ActorRef.Equals(_client), _ => _loop.Tell(new CancelRequest(_id), Self));
        Receive<Terminated>(t => t.ActorRef.Equals(_loop), _ =>
        {
            // The loop died (a bug, not a model failure: those it recovers from): never leave the client waiting.
            _client.Tell(new Completed(FinishReason.Error, new Usage(_request.PromptTokenIds.Count, _sent), string.Empty, "the decode loop stopped"), Self);
            Context.Stop(Self);
        });
    }

    protected override void PreStart()
    {
        Context.Watch(_client);
        Context.Watch(_loop);
        _loop.Tell(new RegisterRequest(_id, _request.PromptTokenIds, _request.Sampling, _request.Deadline, Self), Self);
    }

    private void OnToken(LoopToken message)
    {
        if (_stops.Stopped)
        {
            // Produced after we found a stop sequence, before the loop retired the request: discarded, never sent.
            return;
        }

        // The end-of-sequence token that finishes a request is not text (it would decode as
        // "<|endoftext|>"): it is sent with an empty delta, and held-back text follows in Completed.
        string delta = message.Token.Finish == FinishReason.Eos ? string.Empty : _stops.Append(_decoder.Append(message.Token.TokenId));
        _client.Tell(new Token(message.Index, message.Token.TokenId, delta, message.Token.Logprob, message.Token.TopLogprobs), Self);
        _sent++;
        if (_stops.Stopped && !_stopSent)
        {
            _stopSent = true;
            _loop.Tell(new StopSequenceFound(_id), Self);
        }
    }

    private void OnDone(LoopFinished done)
    {
        FinishReason reason = _stops.Stopped ? FinishReason.StopSequence : done.Reason;
        string trailing = _stops.Stopped ? string.Empty : _stops.Append(_decoder.Flush()) + _stops.Flush();
        _client.Tell(new Completed(reason, new Usage(done.PromptTokens, _sent), trailing, done.Error), Self);
        Context.Stop(Self);
    }
}
