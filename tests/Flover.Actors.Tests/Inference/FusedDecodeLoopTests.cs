using Flover.Actors.Inference;
using Flover.Gpu.Memory;
using Flover.Gpu.Models;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Tests.Inference;

[Trait("Category", "Slow")]
public sealed class FusedDecodeLoopTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    public static TheoryData<MemoryMode, int, string> Modes => new()
    {
        { MemoryMode.Indexed, 512, "none" },
        { MemoryMode.Holes, 512, "none" },
        { MemoryMode.Shuffle, 512, "none" },
        { MemoryMode.Indexed, 5, "none" },
        { MemoryMode.Shuffle, 5, "none" },
        { MemoryMode.Indexed, 512, "faults" },
        { MemoryMode.Holes, 7, "faults" },
        { MemoryMode.Shuffle, 512, "faults" },
    };

    [Theory]
    [MemberData(nameof(Modes))]
    public void Every_request_gets_exactly_the_tokens_it_gets_alone(MemoryMode mode, int prefillBudget, string faults)
    {
        List<ScenarioRequest> requests = Scenario(seed: 7, count: 10);
        var expected = requests.ToDictionary(r => r.Id, r => fixture.Alone(r.Prompt, r.Parameters));
        var model = faults == "faults"
            ? new FaultyModel(fixture.Model, new HashSet<int> { 3, 8, 9 }, new HashSet<int> { 2 })
            : new FaultyModel(fixture.Model, new HashSet<int>(), new HashSet<int>());
        var loop = SchedulerStepping.Fused(model, new DecodeLoopOptions(64, prefillBudget, mode, fixture.Eos));

        (Dictionary<long, List<int>> tokens, Dictionary<long, FinishReason> reasons, int failedSteps) = Run(loop, requests);

        Assert.Equal(faults == "faults" ? 4 : 0, failedSteps);
        foreach (ScenarioRequest request in requests)
        {
            Assert.Equal(expected[request.Id].Tokens.Select(t => t.TokenId), tokens[request.Id]);
            Assert.Equal(expected[request.Id].Finish, reasons[request.Id]);
        }
    }

    [Fact]
    public void Greedy_sampled_and_logprobs_rows_and_holes_are_chosen_on_the_device_and_every_token_is_the_same()
    {
        int vocabulary = fixture.Model.VocabularySize;
        List<ScenarioRequest> mixed = [.. Scenario(seed: 5, count: 8).Select(r => r with { Parameters = (r.Id % 4) switch
        {
            0 => Greedy(r.Parameters.MaxTokens),
            1 => r.Parameters,
            2 => new SamplingParameters { TopP = 0.8f, RepetitionPenalty = 1.2f, PresencePenalty = 0.3f, Seed = (ulong)r.Id, MaxTokens = r.Parameters.MaxTokens },
            _ => new SamplingParameters { Temperature = 0.7f, Logprobs = 2, Seed = (ulong)r.Id, MaxTokens = r.Parameters.MaxTokens },
        } })];
        var expected = mixed.ToDictionary(r => r.Id, r => fixture.Alone(r.Prompt, r.Parameters).Tokens.Select(t => t.TokenId).ToList());
        var model = new RowRecordingModel(fixture.Model);
        FusedDecodeLoop loop = SchedulerStepping.Fused(model, new DecodeLoopOptions(64, 512, MemoryMode.Holes, fixture.Eos));

        (Dictionary<long, List<int>> tokens, _, _) = Run(loop, mixed);

        foreach (ScenarioRequest request in mixed)
        {
            Assert.Equal(expected[request.Id], tokens[request.Id]);
        }

        // Greedy rows (and holes) by arg-max, sampled rows by their sampling, logprobs rows too, and
        // every request's first token after its prompt: no row brings back logits.
        Assert.All(model.Rows, row => Assert.Equal(vocabulary, row.ChooseAmong));
        Assert.All(model.Prompts.Where(p => p.Logits != LogitsSelection.None), p => Assert.NotNull(p.Sampling));
        Assert.Contains(model.Prompts, p => p.Sampling is { Temperature: 0 });
        Assert.Contains(model.Rows, row => row.Sampling is null);
        Assert.Contains(model.Rows, row => row.Sampling is { TopK: 40 });
        Assert.Contains(model.Rows, row => row.Sampling is { TopP: 0.8f, Edits.Length: > 0 });
        Assert.Contains(model.Rows, row => row.Sampling is { Logprobs: 2 });
    }

    [Fact]
    public void With_greedy_device_sampling_only_arg_max_rows_are_chosen_on_the_device_and_every_token_is_the_same()
    {
        int vocabulary = fixture.Model.VocabularySize;
        List<ScenarioRequest> requests = Scenario(seed: 5, count: 8);
        var expected = requests.ToDictionary(r => r.Id, r => fixture.Alone(r.Prompt, r.Parameters).Tokens.Select(t => t.TokenId).ToList());
        var model = new RowRecordingModel(fixture.Model);
        FusedDecodeLoop loop = SchedulerStepping.Fused(model, new DecodeLoopOptions(64, 512, MemoryMode.Indexed, fixture.Eos) { SampleOnDevice = false });

        (Dictionary<long, List<int>> tokens, _, _) = Run(loop, requests);

        foreach (ScenarioRequest request in requests)
        {
            Assert.Equal(expected[request.Id], tokens[request.Id]);
        }

        // flover.engine.device-sampling = greedy: the earlier split, for comparison.
        Assert.All(model.Rows, row => Assert.Null(row.Sampling));
        Assert.All(model.Prompts, p => Assert.Null(p.Sampling));
        Assert.Contains(model.Rows, row => row.ChooseAmong == vocabulary);
        Assert.Contains(model.Rows, row => row.ChooseAmong == 0);
    }

    [Fact]
    public void Shuffle_planned_outside_the_loop_and_applied_at_the_next_step_keeps_every_request_exact()
    {
        List<ScenarioRequest> requests = Scenario(seed: 11, count: 10);
        var expected = requests.ToDictionary(r => r.Id, r => fixture.Alone(r.Prompt, r.Parameters).Tokens.Select(t => t.TokenId).ToList());
        var model = new FaultyModel(fixture.Model, new HashSet<int>(), new HashSet<int>(), new HashSet<int>());
        FusedDecodeLoop loop = SchedulerStepping.Fused(model, new DecodeLoopOptions(64, 512, MemoryMode.Shuffle, fixture.Eos));
        int offered = 0;

        (Dictionary<long, List<int>> tokens, _, _) = Run(loop, requests, betweenSteps: () =>
        {
            if (loop.CompactionWanted is { } wanted)
            {
                // What the shuffle actor does: plan on the snapshot; the loop applies it at its next step.
                Assert.True(loop.OfferCompaction(CompactionPlanner.Plan(wanted.Live), wanted.Version));
                Assert.Null(loop.CompactionWanted);
                offered++;
            }
        });

        Assert.True(offered > 0);
        Assert.True(model.CopyCalls > 0);
        foreach (ScenarioRequest request in requests)
        {
            Assert.Equal(expected[request.Id], tokens[request.Id]);
        }
    }

    [Fact]
    public void A_failing_KV_copy_during_a_shuffle_fails_its_step_which_is_recovered_and_every_request_stays_exact()
    {
        List<ScenarioRequest> requests = Scenario(seed: 11, count: 10);
        var expected = requests.ToDictionary(r => r.Id, r => fixture.Alone(r.Prompt, r.Parameters).Tokens.Select(t => t.TokenId).ToList());
        var model = new FaultyModel(fixture.Model, new HashSet<int>(), new HashSet<int>(), new HashSet<int> { 1 });
        FusedDecodeLoop loop = SchedulerStepping.Fused(model, new DecodeLoopOptions(64, 512, MemoryMode.Shuffle, fixture.Eos));

        (Dictionary<long, List<int>> tokens, _, int failedSteps) = Run(loop, requests);

        // Copy 1 always throws, so any copy at all means the fault was met and recovered from:
        // the copies run inside the step, so that step fails and its requests are re-prefilled.
        Assert.True(model.CopyCalls > 1);
        Assert.Equal(1, failedSteps);
        foreach (ScenarioRequest request in requests)
        {
            Assert.Equal(expected[request.Id], tokens[request.Id]);
        }
    }

    [Fact]
    public void A_request_arriving_mid_flight_gets_its_first_token_in_the_next_iteration_and_a_finished_one_frees_its_slot_at_once()
    {
        var loop = SchedulerStepping.Fused(fixture.Model, new DecodeLoopOptions(8, 512, MemoryMode.Indexed, fixture.Eos));
        Assert.Null(loop.Submit(1, new[] { 10, 20, 30 }, Greedy(maxTokens: 6)));
        loop.Step();
        loop.Step();

        Assert.Null(loop.Submit(2, new[] { 40, 50 }, Greedy(maxTokens: 2)));
        IterationReport joined = loop.Step();
        Assert.Contains(joined.Tokens, t => t.RequestId == 2 && t.Index == 0);
        Assert.Equal(2, loop.SlotsUsed);

        IterationReport last = loop.Step();
        Assert.Contains(last.Finished, f => f.RequestId == 2 && f.Reason == FinishReason.Length);
        Assert.Equal(1, loop.SlotsUsed);
    }

    [Fact]
    public void The_step_after_the_last_departure_only_hands_the_slots_back_and_then_the_loop_is_idle()
    {
        var loop = SchedulerStepping.Fused(fixture.Model, new DecodeLoopOptions(8, 512, MemoryMode.Indexed, fixture.Eos));
        Assert.Null(loop.Submit(1, new[] { 10, 20, 30 }, Greedy(maxTokens: 2)));
        Assert.Null(loop.Submit(2, new[] { 40, 50 }, Greedy(maxTokens: 1)));
        IterationReport first = loop.Step();
        Assert.Contains(first.Finished, f => f.RequestId == 2);
        IterationReport second = loop.Step();
        Assert.Contains(second.Finished, f => f.RequestId == 1);

        // Request 2 left in the first step, so the second step already carried its slot back.
        Assert.True(loop.HasWork);
        ModelStep release = loop.PlanStep();

        Assert.Equal([0], release.Released);
        Assert.Empty(release.Copies);
        Assert.Empty(release.Prefill);
        Assert.Empty(release.Decode);
        IterationReport idle = loop.CompleteStep(new ModelStepRunner(fixture.Model).Run(release));
        Assert.Empty(idle.Tokens);
        Assert.Empty(idle.Finished);
        Assert.False(loop.HasWork);
    }

    [Fact]
    public void A_slot_vacated_and_admitted_to_in_the_same_plan_is_not_released()
    {
        var loop = SchedulerStepping.Fused(fixture.Model, new DecodeLoopOptions(8, 512, MemoryMode.Indexed, fixture.Eos));
        Assert.Null(loop.Submit(1, new[] { 10, 20, 30 }, Greedy(maxTokens: 1)));
        Assert.Contains(loop.Step().Finished, f => f.RequestId == 1);
        Assert.Null(loop.Submit(2, new[] { 40, 50 }, Greedy(maxTokens: 1)));

        ModelStep step = loop.PlanStep();

        Assert.Equal(0, Assert.Single(step.Prefill).Slot);
        Assert.Empty(step.Released);
        loop.CompleteStep(new ModelStepRunner(fixture.Model).Run(step));
    }

    [Fact]
    public void With_a_sampled_vocabulary_no_request_gets_an_id_past_it()
    {
        // The tiny preset has GPT-2's 50,257 ids; greedy decoding of this prompt picks ids past 1,000
        // unrestricted, which a loop told to sample only the first 1,000 must never give.
        int[] prompt = [10, 20, 30];
        List<int> unrestricted = Tokens(SchedulerStepping.Fused(fixture.Model, new DecodeLoopOptions(8, 512, MemoryMode.Indexed, fixture.Eos)), prompt);
        List<int> restricted = Tokens(SchedulerStepping.Fused(fixture.Model, new DecodeLoopOptions(8, 512, MemoryMode.Indexed, fixture.Eos) { SampledVocabulary = 1000 }), prompt);

        Assert.Contains(unrestricted, id => id >= 1000);
        Assert.Equal(12, restricted.Count);
        Assert.All(restricted, id => Assert.InRange(id, 0, 999));

        static List<int> Tokens(FusedDecodeLoop loop, int[] prompt)
        {
            Assert.Null(loop.Submit(1, prompt, new SamplingParameters { Temperature = 0, MaxTokens = 12, IgnoreEos = true }));
            var tokens = new List<int>();
            while (loop.HasWork)
            {
                tokens.AddRange(loop.Step().Tokens.Select(t => t.Token.TokenId));
            }

            return tokens;
        }
    }

    [Fact]
    public void Cancel_retires_the_request_and_frees_its_slot_at_the_next_iteration()
    {
        var loop = SchedulerStepping.Fused(fixture.Model, new DecodeLoopOptions(8, 512, MemoryMode.Indexed, fixture.Eos));
        loop.Submit(1, new[] { 1, 2, 3 }, Greedy(maxTokens: 20));
        loop.Step();

        loop.Cancel(1);
        IterationReport report = loop.Step();

        Assert.Equal(new LoopFinished(1, FinishReason.Cancelled, 3, 1), Assert.Single(report.Finished));
        Assert.Empty(report.Tokens);
        Assert.Equal(0, loop.SlotsUsed);
        Assert.False(loop.HasWork);
    }

    [Fact]
    public void A_stop_sequence_found_by_the_client_retires_the_request_before_another_token()
    {
        var loop = SchedulerStepping.Fused(fixture.Model, new DecodeLoopOptions(8, 512, MemoryMode.Indexed, fixture.Eos));
        loop.Submit(1, new[] { 1, 2, 3 }, Greedy(maxTokens: 20));
        loop.Step();

        loop.StopSequenceFound(1);
        IterationReport report = loop.Step();

        Assert.Equal(FinishReason.StopSequence, Assert.Single(report.Finished).Reason);
        Assert.Empty(report.Tokens);
    }

    [Fact]
    public void A_passed_deadline_retires_the_request_with_Timeout()
    {
        var clock = new ManualClock();
        var loop = SchedulerStepping.Fused(fixture.Model, new DecodeLoopOptions(8, 512, MemoryMode.Indexed, fixture.Eos), clock);
        loop.Submit(1, new[] { 1, 2, 3 }, Greedy(maxTokens: 20), clock.Now.AddSeconds(1));
        loop.Step();

        clock.Now = clock.Now.AddSeconds(1);

        Assert.Equal(FinishReason.Timeout, Assert.Single(loop.Step().Finished).Reason);
    }

    [Fact]
    public void The_waiting_queue_bound_rejects_with_a_reason_naming_the_setting()
    {
        var loop = SchedulerStepping.Fused(fixture.Model, new DecodeLoopOptions(2, 512, MemoryMode.Indexed, fixture.Eos));
        Assert.Null(loop.Submit(1, new[] { 1 }, Greedy(4)));
        Assert.Null(loop.Submit(2, new[] { 1 }, Greedy(4)));

        Assert.Equal("the waiting queue is full (2 requests; flover.engine.max-waiting)", loop.Submit(3, new[] { 1 }, Greedy(4)));
        Assert.Equal("the prompt is empty: give at least one token", loop.Submit(4, Array.Empty<int>(), Greedy(4)));
        Assert.StartsWith("the prompt has 48 tokens", loop.Submit(5, new int[48], Greedy(4)), StringComparison.Ordinal);
        Assert.Equal("request 1 is already in the loop", loop.Submit(1, new[] { 1 }, Greedy(4)));
    }

    [Fact]
    public void Only_a_request_implicated_in_three_failed_steps_in_a_row_ends_with_Error()
    {
        var model = new FaultyModel(fixture.Model, new HashSet<int> { 1, 2, 3 }, new HashSet<int>());
        var loop = SchedulerStepping.Fused(model, new DecodeLoopOptions(8, 512, MemoryMode.Indexed, fixture.Eos));
        loop.Submit(1, new[] { 5, 6 }, Greedy(maxTokens: 10));
        loop.Step();

        var finished = new List<LoopFinished>();
        for (int i = 0; i < 6 && loop.HasWork; i++)
        {
            finished.AddRange(loop.Step().Finished);
        }

        LoopFinished failed = Assert.Single(finished);
        Assert.Equal(FinishReason.Error, failed.Reason);
        Assert.Contains("injected decode fault 3", failed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_request_that_fails_every_step_it_is_in_ends_with_Error_after_K_and_the_one_beside_it_gets_exactly_its_tokens_alone()
    {
        const int Poison = 666;
        var healthy = new ScenarioRequest(1, 0, [464, 5044, 318], new SamplingParameters { Temperature = 0.9f, TopK = 40, Seed = 11, MaxTokens = 8 });
        var poisoned = new ScenarioRequest(2, 0, [40, Poison, 7], Greedy(maxTokens: 8));
        GenerationResult alone = fixture.Alone(healthy.Prompt, healthy.Parameters);
        var model = new PoisonedPromptModel(fixture.Model, Poison);
        var loop = SchedulerStepping.Fused(model, new DecodeLoopOptions(8, 512, MemoryMode.Indexed, fixture.Eos, MaxConsecutiveFailures: 3));

        // Both start in one step, which fails; from then on they are suspects and never share a step
        // until the healthy one produces a token, so only the poisoned one counts three in a row.
        (Dictionary<long, List<int>> tokens, Dictionary<long, FinishReason> reasons, int failedSteps) = Run(loop, [healthy, poisoned]);

        Assert.Equal(3, failedSteps);
        Assert.Equal(FinishReason.Error, reasons[2]);
        Assert.Empty(tokens[2]);
        Assert.Equal(alone.Finish, reasons[1]);
        Assert.Equal(alone.Tokens.Select(t => t.TokenId), tokens[1]);
    }

    [Fact]
    public void Holes_mode_computes_dead_rows_inside_the_window_and_shuffle_mode_compacts_them_away()
    {
        foreach (MemoryMode mode in new[] { MemoryMode.Holes, MemoryMode.Shuffle })
        {
            var loop = SchedulerStepping.Fused(fixture.Model, new DecodeLoopOptions(8, 512, mode, fixture.Eos));
            loop.Submit(1, new[] { 1, 2 }, Greedy(maxTokens: 8));
            loop.Submit(2, new[] { 3, 4 }, Greedy(maxTokens: 1));
            loop.Submit(3, new[] { 5, 6 }, Greedy(maxTokens: 8));
            loop.Step();

            IterationReport next = loop.Step();

            if (mode == MemoryMode.Holes)
            {
                Assert.Equal((3, 2), (next.DecodeRows, next.LiveRows));
                Assert.Null(next.Compaction);
            }
            else
            {
                Assert.Equal((2, 2), (next.DecodeRows, next.LiveRows));
                Assert.Single(next.Compaction!.Moves);
            }
        }
    }

    private static (Dictionary<long, List<int>> Tokens, Dictionary<long, FinishReason> Reasons, int FailedSteps) Run(FusedDecodeLoop loop, List<ScenarioRequest> requests, Action? betweenSteps = null)
    {
        var tokens = requests.ToDictionary(r => r.Id, _ => new List<int>());
        var reasons = new Dictionary<long, FinishReason>();
        int iteration = 0;
        int failedSteps = 0;
        while (reasons.Count < requests.Count)
        {
            foreach (ScenarioRequest request in requests.Where(r => r.ArrivalIteration == iteration))
            {
                Assert.Null(loop.Submit(request.Id, request.Prompt, request.Parameters));
            }

            if (loop.HasWork)
            {
                IterationReport report = loop.Step();
                failedSteps += report.Failed ? 1 : 0;
                foreach (LoopToken token in report.Tokens)
                {
                    Assert.Equal(tokens[token.RequestId].Count, token.Index);
                    tokens[token.RequestId].Add(token.Token.TokenId);
                }

                foreach (LoopFinished finished in report.Finished)
                {
                    reasons.Add(finished.RequestId, finished.Reason);
                }

                betweenSteps?.Invoke();
            }

            Assert.True(++iteration < 1000, "the loop did not finish");
        }

        return (tokens, reasons, failedSteps);
    }

    private static List<ScenarioRequest> Scenario(int seed, int count)
    {
        var random = new Random(seed);
        return Enumerable.Range(1, count).Select(id => new ScenarioRequest(
            id,
            random.Next(0, 12),
            Enumerable.Range(0, random.Next(1, 18)).Select(_ => random.Next(0, 50257)).ToArray(),
            id % 2 == 0
                ? Greedy(random.Next(1, 12))
                : new SamplingParameters { Temperature = 0.9f, TopK = 40, Seed = (ulong)(1000 + id), MaxTokens = random.Next(1, 12) })).ToList();
    }

    private static SamplingParameters Greedy(int maxTokens) => new() { Temperature = 0, MaxTokens = maxTokens };
}

/// <summary>Passes every call to a model and records each decode row it was given.</summary>
internal sealed class RowRecordingModel(IModel inner) : DelegatingModel(inner)
{
    public List<DecodeRow> Rows { get; } = [];

    public List<PrefillPrompt> Prompts { get; } = [];

    public override ModelLogits Decode(ReadOnlySpan<DecodeRow> rows)
    {
        Rows.AddRange(rows);
        return Inner.Decode(rows);
    }

    public override ModelLogits Prefill(IReadOnlyList<PrefillPrompt> prompts)
    {
        Prompts.AddRange(prompts);
        return Inner.Prefill(prompts);
    }

}
