using Flover.Gpu.Models;

namespace Flover.Gpu.Sampling;

/// <summary>The choice of the next token where the logits are: its specification, and the host sampler's own run of it.</summary>
public sealed partial class RequestSampler
{
    [ThreadStatic]
    private static float[]? t_raw;

    /// <summary>
    /// Whether the next token may be chosen where the logits are (<see cref="DeviceSampling"/>): while
    /// the request goes on (logprobs come back with the id).
    /// </summary>
    public bool SamplesOnDevice => Finish is null;

    /// <summary>
    /// The next token's sampling as data for <see cref="Accelerators.Accelerator.SampleRows"/>: this
    /// request's parameters, its draw <see cref="CounterRandom.Uniform"/>(seed, <see cref="GeneratedCount"/>),
    /// its penalties, logit bias and min-tokens ban as one edit per token, and the logprobs it asks for;
    /// null once the request has finished.
    /// </summary>
    public RowSampling? DeviceSampling() => Finish is not null ? null
        : new RowSampling(_vocabularySize, _parameters.Temperature, _parameters.TopK, _parameters.TopP, CounterRandom.Uniform(_parameters.Seed, GeneratedCount), Edits(), _parameters.Logprobs ?? -1);

    /// <summary>The logit processors' work for the next token as one edit per token (none at all for a request without any: no allocation).</summary>
    private LogitEdit[] Edits()
    {
        bool banEos = GeneratedCount < _parameters.MinTokens && !_parameters.IgnoreEos;
        if (_parameters.RepetitionPenalty == 1f && _parameters.PresencePenalty == 0f && _parameters.FrequencyPenalty == 0f && _parameters.LogitBias is not { Count: > 0 } && !banEos)
        {
            return [];
        }

        var edits = new Dictionary<int, LogitEdit>();
        if (_parameters.RepetitionPenalty != 1f)
        {
            foreach (int token in _seen)
            {
                if ((uint)token < (uint)_vocabularySize)
                {
                    edits[token] = new LogitEdit(token, LogitEditKinds.Repetition, _parameters.RepetitionPenalty, 0, 0);
                }
            }
        }

        if (_parameters.PresencePenalty != 0f || _parameters.FrequencyPenalty != 0f)
        {
            foreach ((int token, int count) in _generatedCounts)
            {
                // The same float expression as the host's Process, so the subtrahend rounds alike.
                float subtract = _parameters.PresencePenalty + (_parameters.FrequencyPenalty * count);
                LogitEdit e = edits.GetValueOrDefault(token, new LogitEdit(token, 0, 1f, 0, 0));
                edits[token] = e with { Kinds = e.Kinds | LogitEditKinds.Subtract, Subtract = subtract };
            }
        }

        foreach ((int token, float bias) in _parameters.LogitBias ?? new Dictionary<int, float>())
        {
            LogitEdit e = edits.GetValueOrDefault(token, new LogitEdit(token, 0, 1f, 0, 0));
            edits[token] = e with { Kinds = e.Kinds | LogitEditKinds.Bias, Bias = bias };
        }

        if (banEos)
        {
            foreach (int eos in _eosTokenIds.Where(eos => (uint)eos < (uint)_vocabularySize))
            {
                LogitEdit e = edits.GetValueOrDefault(eos, new LogitEdit(eos, 0, 1f, 0, 0));
                edits[eos] = e with { Kinds = e.Kinds | LogitEditKinds.Ban };
            }
        }

        return [.. edits.Values];
    }

    /// <summary>
    /// The decode row that feeds <paramref name="token"/> at <paramref name="position"/> of
    /// <paramref name="slot"/> and asks for the next token to be chosen where the logits are when it
    /// can be: by arg-max (<see cref="ChoosesByArgMax"/>), else by <see cref="DeviceSampling"/>, else
    /// (the request has finished) with the row's logits brought back.
    /// </summary>
    public DecodeRow NextRow(int slot, int position, int token) =>
        ChoosesByArgMax ? new DecodeRow(slot, position, token, _vocabularySize)
        : DeviceSampling() is { } sampling ? new DecodeRow(slot, position, token, sampling.Candidates, sampling)
        : new DecodeRow(slot, position, token);

    /// <summary>
    /// Records the token chosen where row <paramref name="row"/>'s logits are (<see cref="Models.ModelLogits.IsChosenOnDevice"/>)
    /// with the log-probabilities that came back with it, or samples the row's logits on the host when they came back instead.
    /// </summary>
    /// <exception cref="FloverException">The logits held a NaN, or every candidate was −∞.</exception>
    public SampledToken Accept(ModelLogits logits, int row)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (!logits.IsChosenOnDevice(row))
        {
            return Sample(logits.Row(row));
        }

        (float Logprob, IReadOnlyList<TokenLogprob> Top)? chosen = logits.ChosenLogprobs(row);
        if (_parameters.Logprobs is not null && chosen is null && logits.ChosenOnDevice(row) >= 0)
        {
            throw new InvalidOperationException($"Row {row} was chosen on the device without the logprobs this request asks for.");
        }

        SampledToken token = RecordChoice(logits.ChosenOnDevice(row));
        return _parameters.Logprobs is null ? token : token with { Logprob = chosen!.Value.Logprob, TopLogprobs = chosen.Value.Top };
    }

    /// <summary>
    /// <paramref name="sampling"/> run by the host sampler itself on <paramref name="row"/> (at least
    /// <see cref="RowSampling.Candidates"/> raw logits; its leading values are overwritten): the CPU
    /// accelerator's <see cref="Accelerators.Accelerator.SampleRows"/>, so the CPU path chooses exactly what
    /// <see cref="Sample"/> does. Returns the id, −2 − i for a row whose first NaN is at i, or −1 when
    /// every candidate is banned. A row asking for logprobs also writes the chosen token's and its top
    /// alternatives' into <paramref name="logprobs"/> and <paramref name="topIds"/> (<see cref="RowSampling.LogprobsPerRow"/> layout).
    /// </summary>
    internal static int Choose(Span<float> row, RowSampling sampling, Span<float> logprobs, Span<int> topIds)
    {
        Span<float> values = row[..sampling.Candidates];
        int nan = IndexOfNaN(values);
        if (nan >= 0)
        {
            return -2 - nan;
        }

        Span<float> raw = default;
        if (sampling.Logprobs >= 0)
        {
            // Logprobs are of the raw logits, which the edits below overwrite.
            raw = Scratch(ref t_raw, values.Length);
            values.CopyTo(raw);
        }

        foreach (LogitEdit edit in sampling.Edits.Span)
        {
            values[edit.Token] = edit.Apply(values[edit.Token]);
        }

        int token;
        try
        {
            token = sampling.Temperature == 0 ? ArgMax(values) : Draw(values, sampling.Draw, sampling.Temperature, sampling.TopK, sampling.TopP);
        }
        catch (FloverException)
        {
            return -1;
        }

        if (sampling.Logprobs >= 0)
        {
            (float chosen, TokenLogprob[] top) = Logprobs(raw, token, sampling.Logprobs);
            logprobs[0] = chosen;
            for (int i = 0; i < top.Length; i++)
            {
                topIds[i] = top[i].TokenId;
                logprobs[1 + i] = top[i].Logprob;
            }
        }

        return token;
    }
}
