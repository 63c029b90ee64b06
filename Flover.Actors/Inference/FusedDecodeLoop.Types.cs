using Akka.Actor;
using Flover.Gpu.Memory;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Inference;

/// <summary>The decode loop's settings (from <c>flover.engine.*</c>).</summary>
/// <param name="MaxWaiting">Requests that may wait for admission; beyond it a submission is rejected.</param>
/// <param name="PrefillTokenBudget">Prompt tokens prefilled per iteration at most: running sequences never stall longer.</param>
/// <param name="MemoryMode">How sequences are laid out in KV slots.</param>
/// <param name="EosTokenId">The end-of-sequence token.</param>
/// <param name="MaxConsecutiveFailures">A request implicated in this many failed steps in a row ends with Error (<c>flover.engine.max-step-failures</c>).</param>
/// <param name="IterationEventsInterval">Shortest time between two <see cref="IterationSummary"/> publications of the decode loop actor; zero (the default) publishes none.</param>
public sealed record DecodeLoopOptions(int MaxWaiting, int PrefillTokenBudget, MemoryMode MemoryMode, int EosTokenId, int MaxConsecutiveFailures = 3, TimeSpan IterationEventsInterval = default)
{
    /// <summary>Longest a step may take on the shards (<c>flover.engine.step-timeout</c>); past it the step fails and silent shards are replaced.</summary>
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// End-of-sequence ids besides <see cref="EosTokenId"/> (a model whose config lists several, as
    /// Llama 3's does; its generation_config.json's; its tokenizer's): any of them ends a request.
    /// Null (the default) when the model has one.
    /// </summary>
    public IReadOnlyList<int>? MoreEosTokenIds { get; init; }

    /// <summary><see cref="EosTokenId"/> followed by <see cref="MoreEosTokenIds"/>.</summary>
    public int[] EosTokenIds => [EosTokenId, .. MoreEosTokenIds ?? []];

    /// <summary>Shortest time from one step's start to the next one's (<c>flover.engine.min-step-interval</c>); zero steps at once.</summary>
    public TimeSpan MinStepInterval { get; init; }

    /// <summary>After a step's deadline has aborted the collectives, how long the shards have to report before those still silent are replaced.</summary>
    public TimeSpan AbortGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Ids sampling may choose: the first this many of a logits row, so a model whose vocabulary is
    /// padded past its tokenizer's (GPT-J's 50 400 over GPT-2's 50 257) never samples an id the
    /// tokenizer cannot decode; null (the default) lets every id of the row be chosen.
    /// </summary>
    public int? SampledVocabulary { get; init; }

    /// <summary>
    /// Whether every request's token is chosen where its logits are (<see cref="Gpu.Sampling.RequestSampler.NextRow"/>,
    /// <c>flover.engine.device-sampling = all</c>, the default), or only plain arg-max requests' (<c>greedy</c>), the
    /// others' logits rows coming to the host sampler.
    /// </summary>
    public bool SampleOnDevice { get; init; } = true;

    /// <summary>The ids sampling chooses among for a model of <paramref name="modelVocabulary"/> ids.</summary>
    public int SampledVocabularyOf(int modelVocabulary) => Math.Min(modelVocabulary, SampledVocabulary ?? modelVocabulary);

    /// <summary>The options <c>flover.engine.*</c> gives (<paramref name="settings"/>), for a model whose end-of-sequence id is <paramref name="eosTokenId"/>.</summary>
    public static DecodeLoopOptions From(Configuration.EngineSettings settings, int eosTokenId)
    {
        ArgumentNullException.ThrowIfNull(settings);
        MemoryMode mode = settings.MemoryMode switch
        {
            "indexed" => MemoryMode.Indexed,
            "holes" => MemoryMode.Holes,
            "shuffle" => MemoryMode.Shuffle,
            _ => throw new Gpu.FloverException($"flover.engine.memory-mode must be indexed, holes or shuffle, not '{settings.MemoryMode}'."),
        };
        return new DecodeLoopOptions(settings.MaxWaiting, settings.PrefillTokenBudget, mode, eosTokenId, MaxConsecutiveFailures: settings.MaxStepFailures, IterationEventsInterval: settings.IterationEventsInterval) { StepTimeout = settings.StepTimeout, MinStepInterval = settings.MinStepInterval, SampleOnDevice = settings.DeviceSampling != "greedy" };
    }
}

/// <summary>A token one request received in an iteration.</summary>
/// <param name="RequestId">The request.</param>
/// <param name="Index">The token's index among the request's generated tokens (0-based).</param>
/// <param name="Token">The sampled token, its logprobs and, on its last token, why it finished.</param>
public sealed record LoopToken(long RequestId, int Index, SampledToken Token) : INoSerializationVerificationNeeded;

/// <summary>A request that left the loop in an iteration.</summary>
/// <param name="RequestId">The request.</param>
/// <param name="Reason">Why it finished.</param>
/// <param name="PromptTokens">Its prompt length.</param>
/// <param name="GeneratedTokens">Tokens it received.</param>
/// <param name="Error">What went wrong, for <see cref="FinishReason.Error"/>.</param>
public sealed record LoopFinished(long RequestId, FinishReason Reason, int PromptTokens, int GeneratedTokens, string? Error = null) : INoSerializationVerificationNeeded;

/// <summary>What one iteration did.</summary>
/// <param name="Tokens">Tokens produced, in row order.</param>
/// <param name="Finished">Requests that left (finished, cancelled, timed out, failed).</param>
/// <param name="Compaction">The KV shuffle applied before the step (shuffle mode), if any.</param>
/// <param name="DecodeRows">Rows the fused decode step computed (dead rows included in holes mode).</param>
/// <param name="LiveRows">Rows that belonged to live sequences.</param>
/// <param name="PrefillTokens">Prompt tokens prefilled.</param>
/// <param name="Failed">The step threw and its sequences were re-queued for recovery.</param>
public sealed record IterationReport(
    IReadOnlyList<LoopToken> Tokens,
    IReadOnlyList<LoopFinished> Finished,
    CompactionPlan? Compaction,
    int DecodeRows,
    int LiveRows,
    int PrefillTokens,
    bool Failed);
