namespace Flover.Gpu.Sampling;

/// <summary>Why a request stopped generating: one enum for the whole project (engine, actors, HTTP, CLI).</summary>
public enum FinishReason
{
    /// <summary>It produced its maximum number of tokens (or its slot ran out of positions).</summary>
    Length,

    /// <summary>The model produced the end-of-sequence token.</summary>
    Eos,

    /// <summary>The text reached one of the request's stop sequences.</summary>
    StopSequence,

    /// <summary>The client cancelled it.</summary>
    Cancelled,

    /// <summary>It ran past its deadline.</summary>
    Timeout,

    /// <summary>It failed (the error is reported alongside).</summary>
    Error,
}
