using Flover.Gpu.Sampling;

namespace Flover.Actors.Inference;

/// <summary>
/// Public request protocol, step 1: ask the engine (the <c>InferenceEngine</c> actor) to generate.
/// The sender then receives <see cref="Token"/> messages and exactly one <see cref="Completed"/>,
/// or one <see cref="Rejected"/>, each carrying the request's <see cref="CorrelationId"/> (so one
/// actor can run many requests); it may send <see cref="Cancel"/> to the sender of those messages
/// (the request's own actor). The prompt is token ids, or text the engine tokenizes
/// (<see cref="FromText"/>). Immutable and serializable.
/// </summary>
/// <param name="PromptTokenIds">The prompt, as token ids (empty when <see cref="PromptText"/> is given).</param>
/// <param name="Sampling">Sampling parameters (temperature, top-k/p, penalties, seed, max tokens, logprobs).</param>
/// <param name="StopSequences">Texts that end the generation; the text up to (not including) the first match is returned.</param>
/// <param name="Deadline">When the request times out (finish reason Timeout), if ever.</param>
public sealed record Generate(
    IReadOnlyList<int> PromptTokenIds,
    SamplingParameters Sampling,
    IReadOnlyList<string>? StopSequences = null,
    DateTimeOffset? Deadline = null)
{
    /// <summary>The prompt as text, tokenized by the engine's tokenizer; give it or <see cref="PromptTokenIds"/>, not both.</summary>
    public string? PromptText { get; init; }

    /// <summary>Chosen by the client and echoed in every <see cref="Token"/>, <see cref="Completed"/> and <see cref="Rejected"/> of this request.</summary>
    public string CorrelationId { get; init; } = string.Empty;

    /// <summary>
    /// Tokens this request already generated (the ids of its <see cref="Token"/>s 0, 1, ..., in
    /// order), to continue it on another engine after the first was lost; empty (the default) for a
    /// new request. The engine continues exactly as an undisturbed run would: the first
    /// <see cref="Token"/> it sends has index <c>ContinueFrom.Count</c> and is sampled with that
    /// draw of the seed, the history counts against <c>max_tokens</c>, for penalties and for stop
    /// sequences, <see cref="Usage.CompletionTokens"/> includes it, and text held back at the cut
    /// (a partial character, a possible stop sequence) is released as it would have been. Equal
    /// tokens need an engine with the same model, precision and device kind (see
    /// <c>Cluster.WorkerFingerprint</c>). A history the request could not have reached unfinished
    /// (ending in end-of-sequence, as long as <c>max_tokens</c>, filling the context, containing a
    /// stop sequence) is <see cref="Rejected"/> naming the field <c>continue_from</c>.
    /// </summary>
    public IReadOnlyList<int> ContinueFrom { get; init; } = [];

    /// <summary>A request whose prompt is <paramref name="text"/>, tokenized by the engine.</summary>
    public static Generate FromText(string text, SamplingParameters sampling, string correlationId = "", IReadOnlyList<string>? stopSequences = null, DateTimeOffset? deadline = null) =>
        new([], sampling, stopSequences, deadline) { PromptText = text, CorrelationId = correlationId };
}

/// <summary>One generated token and the text it adds (possibly empty while text that may start a stop sequence or an incomplete UTF-8 character is held back).</summary>
/// <param name="Index">The token's index among the generated tokens (0-based).</param>
/// <param name="TokenId">The token id.</param>
/// <param name="TextDelta">Text that became final with this token.</param>
/// <param name="Logprob">Its log probability, when logprobs were requested.</param>
/// <param name="TopLogprobs">The top alternatives, when logprobs were requested.</param>
public sealed record Token(int Index, int TokenId, string TextDelta, float? Logprob = null, IReadOnlyList<TokenLogprob>? TopLogprobs = null)
{
    /// <summary>The request's <see cref="Generate.CorrelationId"/>.</summary>
    public string CorrelationId { get; init; } = string.Empty;
}

/// <summary>Token counts of a finished request.</summary>
public sealed record Usage(int PromptTokens, int CompletionTokens)
{
    /// <summary>Prompt plus completion tokens.</summary>
    public int TotalTokens => PromptTokens + CompletionTokens;
}

/// <summary>
/// The request finished. The full text is every <see cref="Token.TextDelta"/> followed by
/// <see cref="TrailingText"/> (text held back until the end).
/// </summary>
/// <param name="FinishReason">Why: Length, Eos, StopSequence, Cancelled, Timeout or Error.</param>
/// <param name="Usage">Token counts.</param>
/// <param name="TrailingText">Held-back text released at the end.</param>
/// <param name="Error">What went wrong, for <see cref="FinishReason.Error"/>.</param>
public sealed record Completed(FinishReason FinishReason, Usage Usage, string TrailingText = "", string? Error = null)
{
    /// <summary>The request's <see cref="Generate.CorrelationId"/>.</summary>
    public string CorrelationId { get; init; } = string.Empty;
}

/// <summary>The request was not accepted; nothing was started and no KV slot was taken.</summary>
/// <param name="Reason">Why, in words (naming the field and its value for an invalid one).</param>
/// <param name="Code">Why, for a program: <see cref="RejectionCode"/>.</param>
public sealed record Rejected(string Reason, RejectionCode Code = RejectionCode.InvalidField)
{
    /// <summary>The request's <see cref="Generate.CorrelationId"/>.</summary>
    public string CorrelationId { get; init; } = string.Empty;

    /// <summary>For <see cref="RejectionCode.InvalidField"/>: the field (as the HTTP API spells it: <c>prompt</c>, <c>max_tokens</c>, <c>top_p</c>...).</summary>
    public string? Field { get; init; }

    /// <summary>For <see cref="RejectionCode.InvalidField"/>: the value given.</summary>
    public string? Value { get; init; }

    /// <summary>True when the only problem is load (<see cref="RejectionCode.QueueFull"/>): the same request may succeed later (HTTP answers 429 with Retry-After).</summary>
    public bool QueueFull => Code == RejectionCode.QueueFull;
}

/// <summary>Why a <see cref="Generate"/> was rejected.</summary>
public enum RejectionCode
{
    /// <summary>A field is invalid (<see cref="Rejected.Field"/>, <see cref="Rejected.Value"/>): an empty prompt, a token id outside the vocabulary, a sampling parameter out of range.</summary>
    InvalidField,

    /// <summary>The prompt leaves no room to generate in a KV slot (the model's context).</summary>
    PromptTooLong,

    /// <summary><c>flover.engine.max-waiting</c> requests already wait: try again later.</summary>
    QueueFull,

    /// <summary>The engine is draining (shutting down) and takes no new requests.</summary>
    Draining,

    /// <summary>The engine cannot serve (its model's shards could not be started).</summary>
    EngineUnavailable,
}

/// <summary>Sent by the client to the request's actor: stop generating; a <see cref="Completed"/> with Cancelled follows.</summary>
public sealed record Cancel
{
    /// <summary>The single instance.</summary>
    public static Cancel Instance { get; } = new();
}

/// <summary>
/// Published on the event stream each time the decode loop compacts its KV slots (shuffle mode):
/// what moved and what it cost.
/// </summary>
/// <param name="Moves">Sequences moved, each once.</param>
/// <param name="Bytes">KV bytes copied.</param>
/// <param name="PlanningTime">Time the shuffle actor spent planning.</param>
/// <param name="CopyTime">Time the shards spent copying KV (rank 0's, inside the step that applied the moves).</param>
public sealed record KvShuffled(int Moves, long Bytes, TimeSpan PlanningTime, TimeSpan CopyTime);

/// <summary>
/// Asks the engine whether its decode loop is alive: the loop answers <see cref="EngineStatus"/>
/// at once, also while its shards compute a step (it never blocks on them), with the age of the
/// step in flight; no answer within a deadline means the loop actor itself is stuck, and a step
/// older than its deadline (<see cref="EngineStatus.Stalled"/>) means the shards are. Readiness
/// checks rely on both.
/// </summary>
public sealed record ProbeEngine
{
    /// <summary>The single instance.</summary>
    public static ProbeEngine Instance { get; } = new();
}

/// <summary>The decode loop's answer to <see cref="ProbeEngine"/>.</summary>
/// <param name="Running">Requests holding a KV slot.</param>
/// <param name="Waiting">Requests waiting for admission.</param>
/// <param name="KvSlotsUsed">KV slots in use.</param>
/// <param name="KvSlotsFree">KV slots free.</param>
/// <param name="StepAge">How long the shards have been computing the step in flight; null between steps.</param>
/// <param name="ShardsAwaited">Shards whose answer the step in flight still waits for.</param>
/// <param name="Stalled">Null when the loop can step; otherwise why it cannot (a step past its deadline, shards starting or being replaced, a shard that could not be started).</param>
public sealed record EngineStatus(int Running, int Waiting, int KvSlotsUsed, int KvSlotsFree, TimeSpan? StepAge = null, int ShardsAwaited = 0, string? Stalled = null);

/// <summary>
/// Published on the event stream when the decode loop replaced a shard: it stopped (crash, kill),
/// stayed silent past its step's deadline, or failed to start. The step it was in failed and its
/// requests were re-admitted from their history.
/// </summary>
/// <param name="Rank">The shard's rank.</param>
/// <param name="Reason">Why, one line.</param>
public sealed record ShardReplaced(int Rank, string Reason);

/// <summary>
/// Published on the event stream when a shard's accelerator reported a device fault (on CUDA a
/// sticky error that poisons the context): the step failed, its requests are re-admitted from their
/// history, and the shard's accelerator and model are created again (a <see cref="ShardReplaced"/>
/// follows). If that fails the engine stops serving.
/// </summary>
/// <param name="Rank">The shard's rank.</param>
/// <param name="Error">What the device reported, one line.</param>
public sealed record DeviceFaulted(int Rank, string Error);

/// <summary>
/// Sent to the engine (<c>InferenceEngine</c>) when it is about to shut down: from now on every
/// <see cref="Generate"/> gets <see cref="Rejected"/> with <see cref="RejectionCode.Draining"/>;
/// requests already in flight run to their end. Answered with <see cref="EngineDraining"/>.
/// </summary>
public sealed record StartDraining
{
    /// <summary>The single instance.</summary>
    public static StartDraining Instance { get; } = new();
}

/// <summary>The engine's answer to <see cref="StartDraining"/>: it admits nothing new.</summary>
public sealed record EngineDraining
{
    /// <summary>The single instance.</summary>
    public static EngineDraining Instance { get; } = new();
}

/// <summary>Asks the engine what it serves; answered with <see cref="EngineDescription"/>.</summary>
public sealed record DescribeEngine
{
    /// <summary>The single instance.</summary>
    public static DescribeEngine Instance { get; } = new();
}

/// <summary>What the engine serves: the vocabulary and the positions a request may use.</summary>
/// <param name="VocabularySize">Token ids are 0 to this minus one.</param>
/// <param name="ContextLength">Positions one request may use (prompt plus generated tokens).</param>
public sealed record EngineDescription(int VocabularySize, int ContextLength)
{
    /// <summary>The engine's tokenizer, for a client in the same process (null once the message has crossed nodes: use <see cref="Tokenize"/> there).</summary>
    public Gpu.Tokenization.ITokenizer? Tokenizer { get; init; }
}

/// <summary>Asks the engine to tokenize <paramref name="Text"/> with its tokenizer (as it does a <see cref="Generate.PromptText"/>); answered with <see cref="Tokenized"/>.</summary>
/// <param name="Text">The text.</param>
/// <param name="CorrelationId">Echoed in the answer.</param>
public sealed record Tokenize(string Text, string CorrelationId = "");

/// <summary>The token ids of a <see cref="Tokenize"/>.</summary>
/// <param name="TokenIds">The ids.</param>
/// <param name="CorrelationId">The request's.</param>
public sealed record Tokenized(IReadOnlyList<int> TokenIds, string CorrelationId = "");

/// <summary>Asks the engine to turn <paramref name="TokenIds"/> back into text; answered with <see cref="Detokenized"/>.</summary>
/// <param name="TokenIds">The ids (each inside the vocabulary).</param>
/// <param name="CorrelationId">Echoed in the answer.</param>
public sealed record Detokenize(IReadOnlyList<int> TokenIds, string CorrelationId = "");

/// <summary>The text of a <see cref="Detokenize"/>.</summary>
/// <param name="Text">The text.</param>
/// <param name="CorrelationId">The request's.</param>
public sealed record Detokenized(string Text, string CorrelationId = "");
