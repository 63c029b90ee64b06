using Akka.Actor;
using Flover.Gpu.Models;
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
    private readonly ITokenizer _tokenizer;
    private readonly ModelShape _model;
    private readonly IIncrementalDecoder _decoder;
    private readonly StopSequenceMatcher _stops;
    private int _promptTokens;
    private int _sent;
    private bool _stopSent;

    public RequestActor(long id, Generate request, IActorRef client, IActorRef loop, ITokenizer tokenizer, ModelShape model)
    {
        _id = id;
        _request = request;
        _client = client;
        _loop = loop;
        _tokenizer = tokenizer;
        _model = model;
        _decoder = tokenizer.CreateIncrementalDecoder();
        _stops = new StopSequenceMatcher(request.StopSequences);
        Receive<LoopToken>(OnToken);
        Receive<LoopFinished>(OnDone);
        Receive<LoopRejected>(rejected =>
        {
            Reject(new Rejected(rejected.Reason, rejected.Code));
        });
        Receive<Cancel>(_ => _loop.Tell(new CancelRequest(_id), Self));
        Receive<Terminated>(t => t.ActorRef.Equals(_client), _ => _loop.Tell(new CancelRequest(_id), Self));
        Receive<Terminated>(t => t.ActorRef.Equals(_loop), _ =>
        {
            // The loop died (a bug, not a model failure: those it recovers from): never leave the client waiting.
            _client.Tell(new Completed(FinishReason.Error, new Usage(_promptTokens, _sent), string.Empty, "the decode loop stopped") { CorrelationId = _request.CorrelationId }, Self);
            Context.Stop(Self);
        });
    }

    protected override void PreStart()
    {
        // Checked here, before the loop sees anything: a bad request starts nothing and takes no slot.
        if (Check(out int[] prompt) is { } rejected)
        {
            Reject(rejected);
            return;
        }

        _promptTokens = prompt.Length;
        // A continued request's history was already streamed to the client by the engine that was
        // lost: its count is part of this request's usage, and its text goes through the decoder
        // and the stop matcher unsent, so both hold exactly what they held at the cut (a partial
        // character, the start of a possible stop sequence) and release it as that engine would have.
        IReadOnlyList<int> history = _request.ContinueFrom ?? [];
        _sent = history.Count;
        foreach (int token in history)
        {
            _stops.Append(_decoder.Append(token));
        }

        if (_stops.Stopped)
        {
            Reject(Invalid("continue_from", $"{history.Count} tokens", "the history already contains a stop sequence: the request has finished"));
            return;
        }

        Context.Watch(_client);
        Context.Watch(_loop);
        _loop.Tell(new RegisterRequest(_id, prompt, _request.Sampling, _request.Deadline, Self, history.Count == 0 ? null : history), Self);
    }

    /// <summary>The request's fields against the model: null when it may run, else the rejection naming the field and its value.</summary>
    private Rejected? Check(out int[] prompt)
    {
        prompt = [];
        if (_request.Sampling is null)
        {
            return Invalid("sampling", "null", "sampling parameters are required");
        }

        if (_request.PromptText is { } text)
        {
            if (_request.PromptTokenIds is { Count: > 0 })
            {
                return Invalid("prompt", "text and token ids", "give the prompt as text or as token ids, not both");
            }

            prompt = _tokenizer.Encode(text);
        }
        else
        {
            prompt = [.. _request.PromptTokenIds ?? []];
        }

        if (prompt.Length == 0)
        {
            return Invalid("prompt", "empty", "the prompt is empty: give at least one token");
        }

        for (int i = 0; i < prompt.Length; i++)
        {
            if ((uint)prompt[i] >= (uint)_model.VocabularySize)
            {
                return Invalid("prompt", prompt[i].ToString(System.Globalization.CultureInfo.InvariantCulture), $"prompt token {i} is {prompt[i]}, outside the vocabulary of {_model.VocabularySize} tokens");
            }
        }

        if (_request.Sampling.FindProblem(_model.VocabularySize) is { } problem)
        {
            return Invalid(problem.Field, problem.Value, problem.Message.TrimEnd('.'));
        }

        if (prompt.Length >= _model.SlotCapacity)
        {
            return new Rejected($"the prompt has {prompt.Length} {(prompt.Length == 1 ? "token" : "tokens")}; a KV slot holds {_model.SlotCapacity} positions, so at most {_model.SlotCapacity - 1} leave room to generate", RejectionCode.PromptTooLong);
        }

        return CheckHistory(prompt.Length);
    }

    /// <summary>A continued request's history (<see cref="Generate.ContinueFrom"/>): ids in the vocabulary, and short enough that the request goes on.</summary>
    private Rejected? CheckHistory(int promptTokens)
    {
        IReadOnlyList<int> history = _request.ContinueFrom ?? [];
        for (int i = 0; i < history.Count; i++)
        {
            if ((uint)history[i] >= (uint)_model.VocabularySize)
            {
                return Invalid("continue_from", history[i].ToString(System.Globalization.CultureInfo.InvariantCulture), $"history token {i} is {history[i]}, outside the vocabulary of {_model.VocabularySize} tokens");
            }
        }

        if (history.Count > 0 && history.Count >= _request.Sampling.MaxTokens)
        {
            return Invalid("continue_from", $"{history.Count} tokens", $"the history already has max_tokens ({_request.Sampling.MaxTokens}) tokens: the request has finished");
        }

        if (history.Count > 0 && promptTokens + history.Count - 1 >= _model.SlotCapacity)
        {
            // An undisturbed run retires once its last token's position reaches the slot's end.
            return Invalid("continue_from", $"{history.Count} tokens", $"the prompt ({promptTokens} tokens) and the history already fill a KV slot of {_model.SlotCapacity} positions: the request has finished");
        }

        return null;
    }

    private static Rejected Invalid(string field, string value, string reason) =>
        new(reason, RejectionCode.InvalidField) { Field = field, Value = value };

    private void Reject(Rejected rejected)
    {
        _client.Tell(rejected with { CorrelationId = _request.CorrelationId }, Self);
        Context.Stop(Self);
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
        _client.Tell(new Token(message.Index, message.Token.TokenId, delta, message.Token.Logprob, message.Token.TopLogprobs) { CorrelationId = _request.CorrelationId }, Self);
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
        _client.Tell(new Completed(reason, new Usage(done.PromptTokens, _sent), trailing, done.Error) { CorrelationId = _request.CorrelationId }, Self);
        Context.Stop(Self);
    }
}
