using Flover.Actors.Inference;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Serialization;

/// <summary>The request protocol's messages on the wire.</summary>
public sealed partial class ProtocolSerializer
{
    private static void WriteGenerate(WireWriter w, Generate m)
    {
        w.String(m.CorrelationId);
        w.Ints([.. m.PromptTokenIds]);
        w.String(m.PromptText);
        WriteSampling(w, m.Sampling);
        w.Strings(m.StopSequences);
        w.NullableLong(m.Deadline?.UtcTicks);
        if (m.ContinueFrom is { Count: > 0 } history)
        {
            // Version 2 (the writer's version byte says so): appended, so everything before it reads as in version 1.
            w.Ints([.. history]);
        }
    }

    private static Generate ReadGenerate(WireReader r)
    {
        string correlationId = r.String() ?? string.Empty;
        int[] prompt = r.Ints();
        string? text = r.String();
        SamplingParameters sampling = ReadSampling(r);
        IReadOnlyList<string>? stops = r.Strings();
        DateTimeOffset? deadline = r.NullableLong() is long ticks ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;
        int[] history = r.Version >= 2 ? r.Ints() : [];
        return new Generate(prompt, sampling, stops, deadline) { PromptText = text, CorrelationId = correlationId, ContinueFrom = history };
    }

    private static void WriteSampling(WireWriter w, SamplingParameters s)
    {
        w.Float(s.Temperature);
        w.Int(s.TopK);
        w.Float(s.TopP);
        w.Float(s.RepetitionPenalty);
        w.Float(s.PresencePenalty);
        w.Float(s.FrequencyPenalty);
        w.Int(s.MinTokens);
        w.Int(s.MaxTokens);
        w.Bool(s.IgnoreEos);
        w.ULong(s.Seed);
        w.NullableInt(s.Logprobs);
        w.Int(s.LogitBias?.Count ?? -1);
        foreach ((int token, float bias) in s.LogitBias ?? new Dictionary<int, float>())
        {
            w.Int(token);
            w.Float(bias);
        }
    }

    private static SamplingParameters ReadSampling(WireReader r)
    {
        var s = new SamplingParameters
        {
            Temperature = r.Float(),
            TopK = r.Int(),
            TopP = r.Float(),
            RepetitionPenalty = r.Float(),
            PresencePenalty = r.Float(),
            FrequencyPenalty = r.Float(),
            MinTokens = r.Int(),
            MaxTokens = r.Int(),
            IgnoreEos = r.Bool(),
            Seed = r.ULong(),
            Logprobs = r.NullableInt(),
        };
        int biases = r.Int();
        if (biases < 0)
        {
            return s;
        }

        var bias = new Dictionary<int, float>(biases);
        for (int i = 0; i < biases; i++)
        {
            bias[r.Int()] = r.Float();
        }

        return s with { LogitBias = bias };
    }

    private static void WriteToken(WireWriter w, Token m)
    {
        w.String(m.CorrelationId);
        w.Int(m.Index);
        w.Int(m.TokenId);
        w.String(m.TextDelta);
        w.NullableFloat(m.Logprob);
        w.Int(m.TopLogprobs?.Count ?? -1);
        foreach (TokenLogprob alternative in m.TopLogprobs ?? [])
        {
            w.Int(alternative.TokenId);
            w.Float(alternative.Logprob);
        }
    }

    private static Token ReadToken(WireReader r)
    {
        string correlationId = r.String() ?? string.Empty;
        int index = r.Int();
        int tokenId = r.Int();
        string delta = r.String() ?? string.Empty;
        float? logprob = r.NullableFloat();
        int count = r.Int();
        TokenLogprob[]? top = null;
        if (count >= 0)
        {
            top = new TokenLogprob[count];
            for (int i = 0; i < count; i++)
            {
                top[i] = new TokenLogprob(r.Int(), r.Float());
            }
        }

        return new Token(index, tokenId, delta, logprob, top) { CorrelationId = correlationId };
    }

    private static void WriteCompleted(WireWriter w, Completed m)
    {
        w.String(m.CorrelationId);
        w.Int((int)m.FinishReason);
        w.Int(m.Usage.PromptTokens);
        w.Int(m.Usage.CompletionTokens);
        w.String(m.TrailingText);
        w.String(m.Error);
    }

    private static Completed ReadCompleted(WireReader r)
    {
        string correlationId = r.String() ?? string.Empty;
        var reason = (FinishReason)r.Int();
        var usage = new Usage(r.Int(), r.Int());
        return new Completed(reason, usage, r.String() ?? string.Empty, r.String()) { CorrelationId = correlationId };
    }

    private static void WriteRejected(WireWriter w, Rejected m)
    {
        w.String(m.CorrelationId);
        w.Int((int)m.Code);
        w.String(m.Reason);
        w.String(m.Field);
        w.String(m.Value);
    }

    private static Rejected ReadRejected(WireReader r)
    {
        string correlationId = r.String() ?? string.Empty;
        var code = (RejectionCode)r.Int();
        return new Rejected(r.String() ?? string.Empty, code) { CorrelationId = correlationId, Field = r.String(), Value = r.String() };
    }

    private static void WriteStatus(WireWriter w, EngineStatus m)
    {
        w.Int(m.Running);
        w.Int(m.Waiting);
        w.Int(m.KvSlotsUsed);
        w.Int(m.KvSlotsFree);
        w.NullableLong(m.StepAge?.Ticks);
        w.Int(m.ShardsAwaited);
        w.String(m.Stalled);
    }

    private static EngineStatus ReadStatus(WireReader r) =>
        new(r.Int(), r.Int(), r.Int(), r.Int(), r.NullableLong() is long ticks ? TimeSpan.FromTicks(ticks) : null, r.Int(), r.String());
}
