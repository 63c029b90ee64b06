using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;

namespace Flover.Gpu.Tests.Models;

/// <summary>
/// Decode rows chosen on the device (<see cref="DecodeRow.ChooseAmong"/>): each brings back the
/// arg-max its logits would give the host, and the other rows of the same step their logits, bitwise.
/// </summary>
public sealed class DeviceChoiceTests
{
    private static readonly int[] Prompt = [3, 1, 4, 1, 5, 9];

    [Fact]
    public void Chosen_rows_bring_back_the_arg_max_of_their_logits_and_the_others_their_logits_bitwise()
    {
        using NativeModelWeights weights = TinyGpt2.Weights(TinyGpt2.Config());
        using var host = new ModelHarness(weights, threads: 2);
        using var device = new ModelHarness(weights, threads: 2);
        for (int slot = 0; slot < 4; slot++)
        {
            host.Model.Prefill([new PrefillPrompt(slot, Prompt.Select(t => t + slot).ToArray())]);
            device.Model.Prefill([new PrefillPrompt(slot, Prompt.Select(t => t + slot).ToArray())]);
        }

        DecodeRow[] rows = [.. Enumerable.Range(0, 4).Select(slot => new DecodeRow(slot, Prompt.Length, 7 + slot))];
        ModelLogits expected = host.Model.Decode(rows);
        float[][] expectedRows = [.. Enumerable.Range(0, 4).Select(r => expected.Row(r).ToArray())];
        // Rows 0 and 2 among the whole vocabulary, row 3 among the first 40 ids, row 1 on the host.
        ModelLogits actual = device.Model.Decode([rows[0] with { ChooseAmong = 300 }, rows[1], rows[2] with { ChooseAmong = 300 }, rows[3] with { ChooseAmong = 40 }]);

        Assert.Equal(ArgMax(expectedRows[0], 300), actual.ChosenOnDevice(0));
        Assert.Equal(ArgMax(expectedRows[2], 300), actual.ChosenOnDevice(2));
        Assert.Equal(ArgMax(expectedRows[3], 40), actual.ChosenOnDevice(3));
        Assert.False(actual.IsChosenOnDevice(1));
        Assert.Equal(expectedRows[1], actual.Row(1).ToArray());
        Assert.Throws<InvalidOperationException>(() => actual.Row(0).ToArray());
        Assert.Throws<InvalidOperationException>(() => actual.ChosenOnDevice(1));
    }

    [Fact]
    public void A_choice_among_more_ids_than_the_vocabulary_is_refused_naming_the_row()
    {
        using NativeModelWeights weights = TinyGpt2.Weights(TinyGpt2.Config());
        using var harness = new ModelHarness(weights);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => harness.Model.Decode([new DecodeRow(0, 0, 1, 301)]));

        Assert.Contains("Decode row 0 (slot 0, position 0, token 1): a choice on the device is made among 0..300 ids, not 301.", error.Message, StringComparison.Ordinal);
    }

    private static int ArgMax(float[] row, int candidates)
    {
        int best = 0;
        for (int i = 1; i < candidates; i++)
        {
            best = row[i] > row[best] ? i : best;
        }

        return best;
    }
}
