using Flover.Actors.Inference.Sharding;
using Flover.Gpu.Models;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Serialization;

/// <summary>
/// Version 4 of the shard protocol: each decode row's sampling on the device (<see cref="DecodeRow.Sampling"/>)
/// in a step, and the log-probabilities sampled rows brought back (<see cref="ModelLogits.ChosenLogprobs"/>) in its result.
/// </summary>
public sealed partial class ProtocolSerializer
{
    private static bool CarriesSampling(ShardStep m) => m.Work.Decode.Any(row => row.Sampling is not null) || m.Work.Prefill.Any(prompt => prompt.Sampling is not null);

    private static bool CarriesLogprobs(ModelStepResult result) => result.Prefill?.AnyChosenLogprobs == true || result.Decode?.AnyChosenLogprobs == true;

    /// <summary>Per row: whether it carries log-probabilities, then the chosen token's and the top alternatives'.</summary>
    private static void WriteChosenLogprobs(WireWriter w, ModelLogits logits)
    {
        for (int row = 0; row < logits.RowCount; row++)
        {
            (float Logprob, IReadOnlyList<TokenLogprob> Top)? chosen = logits.ChosenLogprobs(row);
            w.Bool(chosen is not null);
            if (chosen is { } value)
            {
                w.Float(value.Logprob);
                w.Int(value.Top.Count);
                foreach (TokenLogprob top in value.Top)
                {
                    w.Int(top.TokenId);
                    w.Float(top.Logprob);
                }
            }
        }
    }

    private static void ReadChosenLogprobs(WireReader r, ModelLogits logits)
    {
        for (int row = 0; row < logits.RowCount; row++)
        {
            if (!r.Bool())
            {
                continue;
            }

            float logprob = r.Float();
            var top = new TokenLogprob[r.Count(8)];
            for (int i = 0; i < top.Length; i++)
            {
                top[i] = new TokenLogprob(r.Int(), r.Float());
            }

            logits.SetChosenLogprobs(row, logprob, top);
        }
    }

    /// <summary>For each decode row, then each prompt: whether it is sampled, then its parameters, draw, logprobs and edits.</summary>
    private static void WriteSamplings(WireWriter w, ModelStep work)
    {
        foreach (RowSampling? sampling in work.Decode.Select(row => row.Sampling).Concat(work.Prefill.Select(prompt => prompt.Sampling)))
        {
            w.Bool(sampling is not null);
            if (sampling is not { } s)
            {
                continue;
            }

            w.Int(s.Candidates);
            w.Float(s.Temperature);
            w.Int(s.TopK);
            w.Float(s.TopP);
            w.Double(s.Draw);
            w.Int(s.Logprobs);
            w.Int(s.Edits.Length);
            foreach (LogitEdit edit in s.Edits.Span)
            {
                w.Int(edit.Token);
                w.Int((int)edit.Kinds);
                w.Float(edit.RepetitionPenalty);
                w.Float(edit.Subtract);
                w.Float(edit.Bias);
            }
        }
    }

    private static void ReadSamplings(WireReader r, DecodeRow[] rows, PrefillPrompt[] prompts)
    {
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i] = rows[i] with { Sampling = ReadRowSampling(r) };
        }

        for (int i = 0; i < prompts.Length; i++)
        {
            prompts[i] = prompts[i] with { Sampling = ReadRowSampling(r) };
        }
    }

    private static RowSampling? ReadRowSampling(WireReader r)
    {
        if (!r.Bool())
        {
            return null;
        }

        int candidates = r.Int();
        float temperature = r.Float();
        int topK = r.Int();
        float topP = r.Float();
        double draw = r.Double();
        int logprobs = r.Int();
        var edits = new LogitEdit[r.Count(20)];
        for (int e = 0; e < edits.Length; e++)
        {
            edits[e] = new LogitEdit(r.Int(), (LogitEditKinds)r.Int(), r.Float(), r.Float(), r.Float());
        }

        return new RowSampling(candidates, temperature, topK, topP, draw, edits, logprobs);
    }
}
