using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;

namespace Flover.Gpu.Tests.Models;

public sealed class Gpt2ModelInputTests : IDisposable
{
    private readonly NativeModelWeights _weights = TinyGpt2.Weights(TinyGpt2.Config(positions: 16));
    private readonly ModelHarness _harness;

    public Gpt2ModelInputTests()
    {
        _harness = new ModelHarness(_weights, slots: 2, capacity: 8);
    }

    public void Dispose()
    {
        _harness.Dispose();
        _weights.Dispose();
    }

    [Fact]
    public void A_slot_outside_the_pool_is_rejected_naming_the_slot()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _harness.Model.Decode([new DecodeRow(2, 0, 1)]));
        Assert.Contains("slot 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_rows_in_one_slot_are_rejected()
    {
        var error = Assert.Throws<ArgumentException>(() => _harness.Model.Decode([new DecodeRow(1, 0, 1), new DecodeRow(1, 1, 1)]));
        Assert.Contains("slot 1 appears twice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_position_past_the_slot_capacity_is_rejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _harness.Model.Decode([new DecodeRow(0, 8, 1)]));
        Assert.Contains("position 8", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_token_outside_the_vocabulary_is_rejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _harness.Model.Prefill([new PrefillPrompt(0, new[] { 1, 300 })]));
        Assert.Contains("token 300", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_prompt_that_does_not_fit_its_slot_is_rejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _harness.Model.Prefill([new PrefillPrompt(0, new int[5], 4)]));
        Assert.Contains("does not fit a slot of 8 positions", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_prompt_is_rejected()
    {
        var error = Assert.Throws<ArgumentException>(() => _harness.Model.Prefill([new PrefillPrompt(0, Array.Empty<int>())]));
        Assert.Contains("has no tokens", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Prefill_returns_rows_prompt_by_prompt_as_each_prompt_asks()
    {
        ModelLogits logits = _harness.Model.Prefill(
        [
            new PrefillPrompt(0, new[] { 1, 2, 3 }, 0, LogitsSelection.All),
            new PrefillPrompt(1, new[] { 4, 5 }, 0, LogitsSelection.None),
        ]);

        Assert.Equal(3, logits.RowCount);
        Assert.Equal((0, 3), logits.RowsOf(0));
        Assert.Equal((3, 0), logits.RowsOf(1));
    }

    [Fact]
    public void A_decode_step_allocates_nothing_on_the_calling_thread_after_warm_up()
    {
        DecodeRow[] rows = [new DecodeRow(0, 0, 5), new DecodeRow(1, 0, 7)];
        _harness.Model.Decode(rows);

        long before = GC.GetAllocatedBytesForCurrentThread();
        _harness.Model.Decode(rows);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void A_missing_tensor_is_reported_by_name()
    {
        Gpt2Config config = TinyGpt2.Config();
        using var weights = new NativeModelWeights(config, "broken checkpoint");
        using Accelerator accelerator = new AcceleratorContext(new EngineOptions(1)).CreateDefault();

        var error = Assert.Throws<FloverException>(() => new Gpt2Model(accelerator, weights, new Gpt2ModelOptions(1)));
        Assert.Equal("broken checkpoint has no tensor 'wte.weight', which GPT-2 needs.", error.Message);
    }

    [Fact]
    public void A_misshapen_tensor_is_reported_with_both_shapes()
    {
        Gpt2Config config = TinyGpt2.Config();
        using NativeModelWeights wrong = TinyGpt2.Weights(config with { MaxPositions = 32 });
        using Accelerator accelerator = new AcceleratorContext(new EngineOptions(1)).CreateDefault();
        using var relabeled = new RelabeledWeights(wrong, config);

        var error = Assert.Throws<FloverException>(() => new Gpt2Model(accelerator, relabeled, new Gpt2ModelOptions(1)));
        Assert.Contains("'wpe.weight'", error.Message, StringComparison.Ordinal);
        Assert.Contains("[32, 32]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[64, 32]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_slot_capacity_above_the_model_positions_is_rejected()
    {
        using Accelerator accelerator = new AcceleratorContext(new EngineOptions(1)).CreateDefault();

        var error = Assert.Throws<FloverException>(() => new Gpt2Model(accelerator, _weights, new Gpt2ModelOptions(1, 17)));
        Assert.Contains("Slot capacity 17", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Another model's tensors under a different config: how a bad checkpoint looks.</summary>
    private sealed class RelabeledWeights(IModelWeights inner, Gpt2Config config) : IModelWeights
    {
        public Gpt2Config Config => config;

        public string Source => "relabeled";

        public IReadOnlyCollection<string> TensorNames => inner.TensorNames;

        public TensorView Get(string name) => inner.Get(name);

        public void Dispose()
        {
        }
    }
}
