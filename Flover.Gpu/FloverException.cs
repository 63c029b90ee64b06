namespace Flover.Gpu;

/// <summary>
/// An error caused by what the user brought (a checkpoint, a flag, a request) rather than by a
/// bug: its <see cref="Exception.Message"/> is complete on its own, names the offending file, tensor,
/// key or value, and is shown to the user as it is, without a stack trace.
/// </summary>
public class FloverException : Exception
{
    /// <summary>Creates the error with a complete, user-facing message.</summary>
    public FloverException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the error with a complete, user-facing message and the low-level cause.</summary>
    public FloverException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
