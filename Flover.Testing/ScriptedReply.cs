using Flover.Actors.Inference;
using Flover.Gpu.Sampling;

namespace Flover.Testing;

/// <summary>What the <see cref="ScriptedEngine"/> answers one <see cref="Generate"/> with.</summary>
public abstract record ScriptedReply
{
    private protected ScriptedReply()
    {
    }

    /// <summary>
    /// Streams <paramref name="texts"/> as tokens (ids 0, 1, 2... unless <paramref name="tokenIds"/>
    /// says otherwise), one every <paramref name="interval"/> (virtual time under the TestKit's
    /// scheduler; zero sends them at once), then <see cref="Completed"/> with <paramref name="finish"/>.
    /// </summary>
    public static ScriptedReply Tokens(IReadOnlyList<string> texts, FinishReason finish = FinishReason.Length, TimeSpan interval = default, IReadOnlyList<int>? tokenIds = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (tokenIds is not null && tokenIds.Count != texts.Count)
        {
            throw new ArgumentException($"{tokenIds.Count} token ids for {texts.Count} texts.", nameof(tokenIds));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.Zero);
        return new Stream([.. texts], tokenIds is null ? [.. Enumerable.Range(0, texts.Count)] : [.. tokenIds], finish, interval, null);
    }

    /// <summary>Answers with <see cref="Rejected"/>: nothing starts.</summary>
    public static ScriptedReply Reject(RejectionCode code, string reason, string? field = null, string? value = null) =>
        new Rejection(new Rejected(reason, code) { Field = field, Value = value });

    /// <summary>Streams <paramref name="texts"/> like <see cref="Tokens"/>, then fails: <see cref="Completed"/> with Error and <paramref name="error"/>.</summary>
    public static ScriptedReply FailAfter(IReadOnlyList<string> texts, string error, TimeSpan interval = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        return new Stream([.. texts], [.. Enumerable.Range(0, texts.Count)], FinishReason.Error, interval, error);
    }

    /// <summary>A stream of tokens and its end.</summary>
    internal sealed record Stream(string[] Texts, int[] TokenIds, FinishReason Finish, TimeSpan Interval, string? Error) : ScriptedReply;

    /// <summary>A rejection.</summary>
    internal sealed record Rejection(Rejected Rejected) : ScriptedReply;
}
