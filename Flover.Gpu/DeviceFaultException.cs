namespace Flover.Gpu;

/// <summary>
/// The accelerator reported an error that poisons its device context (on CUDA a "sticky" error
/// such as an illegal address or a kernel that trapped): every later call on the same context fails
/// too, so nothing short of disposing the accelerator and the model on it and creating them again
/// recovers. The model layer throws it (wrapping the device's own exception) instead of a plain
/// error so that its owner knows retrying on the same accelerator is pointless.
/// </summary>
public sealed class DeviceFaultException : Exception
{
    /// <summary>Creates the fault with a one-line message naming the device and what it reported.</summary>
    public DeviceFaultException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the fault with a one-line message and the device's own exception.</summary>
    public DeviceFaultException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
