using System.Diagnostics;
using Flover.Gpu.Sampling;

namespace Flover.Host.Http;

/// <summary>
/// When one request started, got its first token and finished, as its bridge actor saw the
/// engine's messages; the handler reads it after the last message (the channel between them
/// orders the writes before the reads).
/// </summary>
internal sealed class RequestTiming
{
    /// <summary>Stopwatch timestamp of admission.</summary>
    public long Started { get; } = Stopwatch.GetTimestamp();

    /// <summary>Stopwatch timestamp of the first token, or 0.</summary>
    public long FirstToken { get; private set; }

    /// <summary>Stopwatch timestamp of Completed, or 0.</summary>
    public long Finished { get; private set; }

    /// <summary>Tokens received.</summary>
    public int Tokens { get; private set; }

    /// <summary>The engine's finish reason, once Completed arrived.</summary>
    public FinishReason? Reason { get; private set; }

    public void OnToken()
    {
        if (Tokens++ == 0)
        {
            FirstToken = Stopwatch.GetTimestamp();
        }
    }

    public void OnCompleted(FinishReason reason)
    {
        Finished = Stopwatch.GetTimestamp();
        Reason = reason;
    }
}
