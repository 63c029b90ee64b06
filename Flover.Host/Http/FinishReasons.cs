using Flover.Gpu.Sampling;

namespace Flover.Host.Http;

/// <summary>The engine's finish reasons as OpenAI names them (docs/HTTP.md, "Finish reasons").</summary>
internal static class FinishReasons
{
    /// <summary>
    /// <c>finish_reason</c> and Flover's <c>flover_finish_detail</c> (null unless it adds something):
    /// Length → length; Eos, StopSequence → stop; Timeout → length, detail "timeout".
    /// Error and Cancelled never reach a response body as a finish reason.
    /// </summary>
    public static (string Reason, string? Detail) ToOpenAi(FinishReason reason) => reason switch
    {
        FinishReason.Length => ("length", null),
        FinishReason.Eos or FinishReason.StopSequence => ("stop", null),
        FinishReason.Timeout => ("length", "timeout"),
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "Error and Cancelled have no OpenAI finish reason."),
    };
}
