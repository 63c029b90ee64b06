using Flover.Actors.Inference.Sharding;
using Flover.Gpu.Models;

namespace Flover.Actors.Serialization;

/// <summary>The shard protocol on the wire: step plans as int arrays, logits as raw floats.</summary>
public sealed partial class ProtocolSerializer
{
    private static void WriteShardStep(WireWriter w, ShardStep m)
    {
        w.Long(m.Step);
        ModelStep work = m.Work;
        w.Int(work.Copies.Count);
        foreach (KvCopy copy in work.Copies)
        {
            w.Int(copy.FromSlot);
            w.Int(copy.ToSlot);
            w.Int(copy.Length);
        }

        w.Int(work.Prefill.Count);
        foreach (PrefillPrompt prompt in work.Prefill)
        {
            w.Int(prompt.Slot);
            w.Ints(prompt.Tokens.Span);
            w.Int(prompt.StartPosition);
            w.Byte((byte)prompt.Logits);
        }

        w.Int(work.Decode.Length);
        foreach (DecodeRow row in work.Decode)
        {
            w.Int(row.Slot);
            w.Int(row.Position);
            w.Int(row.Token);
        }

        w.Ints([.. work.Released]);
        if (CarriesChoices(m))
        {
            // Version 3: each decode row's ChooseAmong, after everything version 1 holds.
            w.Ints([.. work.Decode.Select(row => row.ChooseAmong)]);
            if (CarriesSampling(m))
            {
                // Version 4: each decode row's and prompt's sampling, after the choices.
                WriteSamplings(w, work);
            }
        }
    }

    private static bool CarriesChoices(ShardStep m) => m.Work.Decode.Any(row => row.ChooseAmong != 0) || CarriesSampling(m);

    private static bool CarriesChoices(ModelStepResult result) => result.Prefill?.AnyChosen == true || result.Decode?.AnyChosen == true;

    private static ShardStep ReadShardStep(WireReader r)
    {
        long step = r.Long();
        var copies = new KvCopy[r.Count(12)];
        for (int i = 0; i < copies.Length; i++)
        {
            copies[i] = new KvCopy(r.Int(), r.Int(), r.Int());
        }

        var prompts = new PrefillPrompt[r.Count(13)];
        for (int i = 0; i < prompts.Length; i++)
        {
            int slot = r.Int();
            int[] tokens = r.Ints();
            prompts[i] = new PrefillPrompt(slot, tokens, r.Int(), (LogitsSelection)r.Byte());
        }

        var rows = new DecodeRow[r.Count(12)];
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i] = new DecodeRow(r.Int(), r.Int(), r.Int());
        }

        int[] released = r.Ints();
        if (r.Version >= 3)
        {
            int[] chooseAmong = r.Ints();
            if (chooseAmong.Length != rows.Length)
            {
                throw new WireFormatException($"a shard step with {rows.Length} decode rows carries {chooseAmong.Length} device choices");
            }

            for (int i = 0; i < rows.Length; i++)
            {
                rows[i] = rows[i] with { ChooseAmong = chooseAmong[i] };
            }

            if (r.Version >= 4)
            {
                ReadSamplings(r, rows, prompts);
            }
        }

        return new ShardStep(step, new ModelStep(copies, prompts, rows) { Released = released });
    }

    private static void WriteShardStepDone(WireWriter w, ShardStepDone m)
    {
        w.Long(m.Step);
        w.Int(m.Rank);
        w.Long(m.ComputeTime.Ticks);
        w.Long(m.CopyTime.Ticks);
        w.Bool(m.Result is not null);
        if (m.Result is { } result)
        {
            WriteLogits(w, result.Prefill, CarriesChoices(result), CarriesLogprobs(result));
            WriteLogits(w, result.Decode, CarriesChoices(result), CarriesLogprobs(result));
        }
    }

    private static ShardStepDone ReadShardStepDone(WireReader r)
    {
        long step = r.Long();
        int rank = r.Int();
        var compute = TimeSpan.FromTicks(r.Long());
        var copy = TimeSpan.FromTicks(r.Long());
        ModelStepResult? result = r.Bool() ? new ModelStepResult(ReadLogits(r), ReadLogits(r)) : null;
        return new ShardStepDone(step, rank, result, compute, copy);
    }

    private static void WriteLogits(WireWriter w, ModelLogits? logits, bool withChoices, bool withLogprobs)
    {
        w.Bool(logits is not null);
        if (logits is null)
        {
            return;
        }

        w.Int(logits.VocabularySize);
        var rowsPerPrompt = new int[logits.PromptCount];
        for (int p = 0; p < rowsPerPrompt.Length; p++)
        {
            rowsPerPrompt[p] = logits.RowsOf(p).Count;
        }

        w.Ints(rowsPerPrompt);
        w.Floats(logits.AllRows);
        if (withChoices)
        {
            // Version 3 (the message carries a choice, see FormatVersionOf): whether these rows have any, and then each row's.
            w.Bool(logits.AnyChosen);
            if (logits.AnyChosen)
            {
                w.Ints(logits.Choices);
            }
        }

        if (withLogprobs)
        {
            // Version 4: the log-probabilities chosen rows brought back.
            WriteChosenLogprobs(w, logits);
        }
    }

    private static ModelLogits? ReadLogits(WireReader r)
    {
        if (!r.Bool())
        {
            return null;
        }

        int vocabulary = r.Int();
        int[] rowsPerPrompt = r.Ints();
        float[] values = r.Floats();
        ModelLogits logits = ModelLogits.FromRows(vocabulary, rowsPerPrompt, values);
        if (r.Version >= 3 && r.Bool())
        {
            logits.SetChoices(r.Ints());
        }

        if (r.Version >= 4)
        {
            ReadChosenLogprobs(r, logits);
        }

        return logits;
    }
}
