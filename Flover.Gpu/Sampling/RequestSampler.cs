using System.Runtime.Intrinsics;

namespace Flover.Gpu.Sampling;

/// <summary>
/// Chooses one request's tokens, row by row, from the model's logits: penalties, logit bias and the
/// min-tokens rule, then greedy or temperature / top-k / top-p sampling with the counter-based draw
/// <see cref="CounterRandom.Uniform"/>(seed, i) for the request's i-th token, then the finish rules
/// (end-of-sequence, max tokens). Holds the request's token counts; one per request, used by one thread
/// at a time.
/// </summary>
public sealed partial class RequestSampler
{
    // First candidate count for top-p without top-k; grown ×4 until the nucleus fits.
    private const int InitialNucleusCandidates = 64;

    [ThreadStatic]
    private static float[]? t_values;

    [ThreadStatic]
    private static int[]? t_indices;

    private readonly SamplingParameters _parameters;
    private readonly int _vocabularySize;
    private readonly int[] _eosTokenIds;
    private readonly Dictionary<int, int> _generatedCounts = [];
    private readonly HashSet<int> _seen = [];

    /// <summary>Creates the sampler of one request.</summary>
    /// <param name="parameters">The request's sampling parameters (validated here).</param>
    /// <param name="vocabularySize">Ids that may be chosen: a logits row's first this many (the row may be wider, a model padded past its tokenizer).</param>
    /// <param name="eosTokenId">The end-of-sequence token.</param>
    /// <param name="promptTokens">The prompt (counts for the repetition penalty).</param>
    /// <exception cref="FloverException">A parameter is out of range.</exception>
    public RequestSampler(SamplingParameters parameters, int vocabularySize, int eosTokenId, ReadOnlySpan<int> promptTokens)
        : this(parameters, vocabularySize, [eosTokenId], promptTokens)
    {
    }

    /// <summary>Creates the sampler of one request for a model with several end-of-sequence tokens (Llama 3's <c>&lt;|end_of_text|&gt;</c> and <c>&lt;|eot_id|&gt;</c>): any of them ends it.</summary>
    /// <param name="parameters">The request's sampling parameters (validated here).</param>
    /// <param name="vocabularySize">Ids that may be chosen: a logits row's first this many.</param>
    /// <param name="eosTokenIds">The end-of-sequence tokens (at least one).</param>
    /// <param name="promptTokens">The prompt (counts for the repetition penalty).</param>
    /// <exception cref="FloverException">A parameter is out of range.</exception>
    public RequestSampler(SamplingParameters parameters, int vocabularySize, ReadOnlySpan<int> eosTokenIds, ReadOnlySpan<int> promptTokens)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabularySize);
        if (eosTokenIds.IsEmpty)
        {
            throw new ArgumentException("At least one end-of-sequence token is needed.", nameof(eosTokenIds));
        }

        parameters.Validate(vocabularySize);
        _parameters = parameters;
        _vocabularySize = vocabularySize;
        _eosTokenIds = eosTokenIds.ToArray();
        foreach (int token in promptTokens)
        {
            _seen.Add(token);
        }
    }

    /// <summary>Tokens generated (or replayed) so far: the index of the next draw.</summary>
    public int GeneratedCount { get; private set; }

    /// <summary>Why the request finished, or null while it goes on.</summary>
    public FinishReason? Finish { get; private set; }

    /// <summary>Chooses the next token from <paramref name="logits"/> and records it.</summary>
    /// <exception cref="InvalidOperationException">The request has already finished.</exception>
    /// <exception cref="FloverException">Logit bias bans every token.</exception>
    public SampledToken Sample(ReadOnlySpan<float> logits)
    {
        if (Finish is not null)
        {
            throw new InvalidOperationException($"The request already finished ({Finish}).");
        }

        if (logits.Length < _vocabularySize)
        {
            throw new ArgumentException($"Expected at least {_vocabularySize} logits, got {logits.Length}.", nameof(logits));
        }

        // Ids past the sampled vocabulary (a padded model's) are never candidates, as if masked to -inf.
        logits = logits[.._vocabularySize];

        int nan = IndexOfNaN(logits);
        if (nan >= 0)
        {
            throw NanLogit(nan);
        }

        Span<float> values = Scratch(ref t_values, _vocabularySize);
        logits.CopyTo(values);
        Process(values);
        double draw = CounterRandom.Uniform(_parameters.Seed, GeneratedCount);
        int token = _parameters.Temperature == 0 ? ArgMax(values) : Draw(values, draw, _parameters.Temperature, _parameters.TopK, _parameters.TopP);
        float? logprob = null;
        TokenLogprob[]? top = null;
        if (_parameters.Logprobs is int alternatives)
        {
            (logprob, top) = Logprobs(logits, token, alternatives);
        }

        Record(token);
        return new SampledToken(token, logprob, top, Finish);
    }

    /// <summary>
    /// Whether the next choice is the plain arg-max of the raw logits: temperature 0 with no penalty,
    /// no logit bias, no logprobs, and no end-of-sequence ban still in force (min-tokens). Then the
    /// model may choose it where the logits are (<see cref="Models.DecodeRow.ChooseAmong"/> = <see cref="ArgMaxCandidates"/>)
    /// and <see cref="AcceptChoice"/> records it: the same token <see cref="Sample"/> would pick.
    /// </summary>
    public bool ChoosesByArgMax =>
        Finish is null
        && _parameters.Temperature == 0
        && _parameters.RepetitionPenalty == 1f
        && _parameters.PresencePenalty == 0f
        && _parameters.FrequencyPenalty == 0f
        && _parameters.LogitBias is not { Count: > 0 }
        && _parameters.Logprobs is null
        && (GeneratedCount >= _parameters.MinTokens || _parameters.IgnoreEos);

    /// <summary>The ids a device choice is made among (this sampler's vocabulary) when <see cref="ChoosesByArgMax"/>, else 0.</summary>
    public int ArgMaxCandidates => ChoosesByArgMax ? _vocabularySize : 0;

    /// <summary>
    /// Records the token the model chose where the logits are (<see cref="Models.ModelLogits.ChosenOnDevice"/>):
    /// by arg-max when <see cref="ChoosesByArgMax"/>, else by <see cref="DeviceSampling"/>, with the
    /// errors <see cref="Sample"/> gives for the same logits: a NaN logit, or every token banned.
    /// A request asking for logprobs records them with <see cref="Accept"/>, which reads them from the logits.
    /// </summary>
    /// <exception cref="InvalidOperationException">The request has finished, or asks for logprobs.</exception>
    /// <exception cref="FloverException">The logits held a NaN, or every candidate was −∞.</exception>
    public SampledToken AcceptChoice(int choice) => _parameters.Logprobs is null
        ? RecordChoice(choice)
        : throw new InvalidOperationException("This request asks for logprobs: record its choice with Accept(logits, row), which brings them.");

    private SampledToken RecordChoice(int choice)
    {
        if (!SamplesOnDevice)
        {
            throw new InvalidOperationException($"The request already finished ({Finish}).");
        }

        if (choice <= -2)
        {
            throw NanLogit(-2 - choice);
        }

        if (choice == -1)
        {
            throw AllBanned();
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)choice, (uint)_vocabularySize, nameof(choice));
        Record(choice);
        return new SampledToken(choice, null, null, Finish);
    }

    /// <summary>Records a token generated before a restart, exactly as <see cref="Sample"/> would have.</summary>
    public void Replay(int token)
    {
        if (Finish is not null)
        {
            throw new InvalidOperationException($"The request already finished ({Finish}).");
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)token, (uint)_vocabularySize, nameof(token));
        Record(token);
    }

    private void Record(int token)
    {
        GeneratedCount++;
        _generatedCounts[token] = _generatedCounts.GetValueOrDefault(token) + 1;
        _seen.Add(token);
        if (!_parameters.IgnoreEos && Array.IndexOf(_eosTokenIds, token) >= 0)
        {
            Finish = FinishReason.Eos;
        }
        else if (GeneratedCount >= _parameters.MaxTokens)
        {
            Finish = FinishReason.Length;
        }
    }

    private static FloverException NanLogit(int token) =>
        new($"The model produced a NaN logit (token {token}): its weights are corrupt or it diverged ('flover info' checks a model's weights).");

    /// <summary>The index of the first NaN, or −1: a vector scan (NaN is the one value not equal to itself).</summary>
    private static int IndexOfNaN(ReadOnlySpan<float> values)
    {
        int i = 0;
        for (; i + Vector256<float>.Count <= values.Length; i += Vector256<float>.Count)
        {
            Vector256<float> block = Vector256.Create(values.Slice(i, Vector256<float>.Count));
            if (!Vector256.EqualsAll(block, block))
            {
                break;
            }
        }

        for (; i < values.Length; i++)
        {
            if (float.IsNaN(values[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private static Span<T> Scratch<T>(ref T[]? array, int length)
    {
        if (array is null || array.Length < length)
        {
            array = new T[length];
        }

        return array.AsSpan(0, length);
    }
}
