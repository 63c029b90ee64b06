using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;

namespace Flover.Gpu.Tests.Models;

/// <summary>
/// Bitwise batch invariance: a sequence's logits never depend on its neighbours, slot, threads or
/// chunking, with an F32 KV cache and with F16/BF16 ones (each value rounded once, when written).
/// </summary>
public sealed class BatchInvarianceTests : IClassFixture<BatchInvarianceTests.Weights>
{
    private readonly Weights _weights;

    public BatchInvarianceTests(Weights weights)
    {
        _weights = weights;
    }

    [Theory]
    [InlineData(TensorDType.F32)]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public void Decoding_token_by_token_equals_prefilling_the_whole_sequence_bitwise(TensorDType kvDType)
    {
        int[] tokens = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7];
        using var harness = new ModelHarness(_weights.Model, threads: 2, kvDType: kvDType);

        float[][] prefilled = harness.PrefillAll(0, tokens);
        float[][] decoded = harness.DecodeEach(1, tokens);

        for (int i = 0; i < tokens.Length; i++)
        {
            Assert.Equal(prefilled[i], decoded[i]);
        }
    }

    [Theory]
    [InlineData(TensorDType.F32)]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public void Prefill_split_into_passes_by_a_small_row_budget_equals_one_pass_bitwise(TensorDType kvDType)
    {
        int[] tokens = Enumerable.Range(0, 40).Select(i => (i * 37) % 300).ToArray();
        using var onePass = new ModelHarness(_weights.Model, rowsPerStep: 64, kvDType: kvDType);
        using var manyPasses = new ModelHarness(_weights.Model, rowsPerStep: 7, kvDType: kvDType);

        float[][] expected = onePass.PrefillAll(2, tokens);
        float[][] actual = manyPasses.PrefillAll(3, tokens);

        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData(TensorDType.F32)]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public void Copying_a_slot_moves_the_sequence_so_decoding_continues_identically(TensorDType kvDType)
    {
        int[] tokens = [10, 20, 30, 40, 50];
        using var harness = new ModelHarness(_weights.Model, slots: 3, kvDType: kvDType);
        harness.Model.Prefill([new PrefillPrompt(0, tokens.AsMemory(0, 4))]);

        harness.Model.Copy(0, 2, 4);
        float[] moved = harness.Model.Decode([new DecodeRow(2, 4, tokens[4])]).Row(0).ToArray();
        float[] original = harness.Model.Decode([new DecodeRow(0, 4, tokens[4])]).Row(0).ToArray();

        Assert.Equal(original, moved);
    }

    [Theory]
    [InlineData(1, TensorDType.F32)]
    [InlineData(2, TensorDType.F32)]
    [InlineData(3, TensorDType.F32)]
    [InlineData(4, TensorDType.F32)]
    [InlineData(5, TensorDType.F32)]
    [InlineData(6, TensorDType.F32)]
    [InlineData(7, TensorDType.F16)]
    [InlineData(8, TensorDType.F16)]
    [InlineData(9, TensorDType.BF16)]
    [InlineData(10, TensorDType.BF16)]
    public void Random_batches_slots_thread_counts_and_chunkings_give_every_sequence_its_solo_logits_bitwise(int seed, TensorDType kvDType)
    {
        var random = new Random(seed);
        int sequenceCount = random.Next(2, 7);
        int[][] sequences = Enumerable.Range(0, sequenceCount)
            .Select(_ => Enumerable.Range(0, random.Next(2, 24)).Select(_ => random.Next(300)).ToArray())
            .ToArray();
        float[][][] solo = sequences.Select(s => _weights.Solo(s, kvDType)).ToArray();

        int slots = sequenceCount + random.Next(0, 4);
        int[] slotOf = Enumerable.Range(0, slots).OrderBy(_ => random.Next()).Take(sequenceCount).ToArray();
        int[] prefillLength = sequences.Select(s => random.Next(1, s.Length + 1)).ToArray();
        int[] done = new int[sequenceCount];
        using var harness = new ModelHarness(_weights.Model, threads: random.Next(1, 5), slots: slots, rowsPerStep: random.Next(1, 40), kvDType: kvDType);

        while (done.Where((d, i) => d < sequences[i].Length).Any())
        {
            bool prefill = random.Next(2) == 0;
            int[] chosen = Enumerable.Range(0, sequenceCount)
                .Where(i => prefill ? done[i] < prefillLength[i] : done[i] >= prefillLength[i] && done[i] < sequences[i].Length)
                .Where(_ => random.Next(3) > 0)
                .OrderBy(_ => random.Next())
                .ToArray();
            if (chosen.Length == 0)
            {
                continue;
            }

            if (prefill)
            {
                var prompts = new List<PrefillPrompt>();
                var chunks = new List<int>();
                foreach (int i in chosen)
                {
                    int chunk = random.Next(1, prefillLength[i] - done[i] + 1);
                    prompts.Add(new PrefillPrompt(slotOf[i], sequences[i].AsMemory(done[i], chunk), done[i], LogitsSelection.All));
                    chunks.Add(chunk);
                }

                ModelLogits logits = harness.Model.Prefill(prompts);
                for (int p = 0; p < chosen.Length; p++)
                {
                    int i = chosen[p];
                    (int first, int count) = logits.RowsOf(p);
                    Assert.Equal(chunks[p], count);
                    for (int r = 0; r < count; r++)
                    {
                        Assert.Equal(solo[i][done[i] + r], logits.Row(first + r).ToArray());
                    }

                    done[i] += count;
                }
            }
            else
            {
                DecodeRow[] rows = chosen.Select(i => new DecodeRow(slotOf[i], done[i], sequences[i][done[i]])).ToArray();
                ModelLogits logits = harness.Model.Decode(rows);
                for (int r = 0; r < chosen.Length; r++)
                {
                    int i = chosen[r];
                    Assert.Equal(solo[i][done[i]], logits.Row(r).ToArray());
                    done[i]++;
                }
            }
        }
    }

    /// <summary>One set of weights shared by the tests of this class, with solo runs cached.</summary>
    public sealed class Weights : IDisposable
    {
        public Weights()
        {
            Model = TinyGpt2.Weights(TinyGpt2.Config(), TensorDType.F32, seed: 7);
        }

        private readonly Dictionary<TensorDType, ModelHarness> _solo = [];
        private readonly Lock _lock = new();

        public NativeModelWeights Model { get; }

        /// <summary>The sequence alone: slot 0, one thread, one decode step per token, with a KV cache of <paramref name="kvDType"/>.</summary>
        public float[][] Solo(int[] tokens, TensorDType kvDType)
        {
            lock (_lock)
            {
                if (!_solo.TryGetValue(kvDType, out ModelHarness? solo))
                {
                    solo = new ModelHarness(Model, threads: 1, slots: 1, kvDType: kvDType);
                    _solo.Add(kvDType, solo);
                }

                return solo.DecodeEach(0, tokens);
            }
        }

        public void Dispose()
        {
            foreach (ModelHarness solo in _solo.Values)
            {
                solo.Dispose();
            }

            Model.Dispose();
        }
    }
}
