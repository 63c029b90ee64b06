namespace Flover.Gpu.Templates;

/// <summary>A template that cannot be parsed, or fails while rendering; the message names the line.</summary>
public class JinjaException : FloverException
{
    /// <summary>Creates the error with a one-line message.</summary>
    public JinjaException(string message)
        : base(message)
    {
    }
}

/// <summary>
/// The template itself refused its input with <c>raise_exception(message)</c> (for example "Conversation
/// roles must alternate user/assistant/user/assistant/..."); the message is the template's, verbatim.
/// </summary>
public sealed class JinjaRaisedException : JinjaException
{
    /// <summary>Creates the error with the template's message.</summary>
    public JinjaRaisedException(string message)
        : base(message)
    {
    }
}
