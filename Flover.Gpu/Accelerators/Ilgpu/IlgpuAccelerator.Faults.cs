using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Flover.Gpu.Accelerators.Ilgpu;

/// <summary>
/// Device faults: an error the device reports while it launches, copies or synchronises poisons
/// the accelerator (on CUDA a sticky error poisons the whole context, so every later call fails
/// as well, its stream siblings' included), and from then on every operation throws
/// <see cref="DeviceFaultException"/> at once. The owner must dispose the accelerator (and its
/// siblings) and create a new one; the decode loop's shards do.
/// </summary>
public sealed partial class IlgpuAccelerator
{
    private long _faultAtLaunch;

    /// <summary>The fault that poisoned this accelerator's context (through it or a stream sibling), or null while it is healthy.</summary>
    public DeviceFaultException? Fault => _shared.Fault;

    /// <summary>
    /// Test hook: the <paramref name="launches"/>-th kernel launch from now fails as a CUDA illegal
    /// address would (<see cref="CudaError.CUDA_ERROR_ILLEGAL_ADDRESS"/>), through the same path as
    /// a real error: the accelerator is poisoned and the launch throws <see cref="DeviceFaultException"/>.
    /// </summary>
    internal void InjectFault(long launches)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(launches);
        _faultAtLaunch = Counters.Launches + launches;
    }

    /// <summary>Throws the poisoning fault again: nothing may run on a poisoned context.</summary>
    private void ThrowIfFaulted()
    {
        if (Fault is { } fault)
        {
            throw new DeviceFaultException(fault.Message, fault);
        }
    }

    /// <summary>Runs a device call, turning the device's error into the poisoning <see cref="DeviceFaultException"/>.</summary>
    private void Guard(Action call)
    {
        try
        {
            call();
        }
        catch (AcceleratorException exception)
        {
            throw Poison(exception);
        }
    }

    /// <summary>Counts a launch and fails it when a fault was injected for it.</summary>
    private void Launch(string kernel)
    {
        Counters.Launched(kernel);
        if (Counters.Launches == _faultAtLaunch)
        {
            _faultAtLaunch = 0;
            // The message is CUDA's own: the error-code constructor asks the driver for it, and
            // there may be none (the CPU oracle).
            throw Poison(new CudaException($"an illegal memory access was encountered ({nameof(CudaError.CUDA_ERROR_ILLEGAL_ADDRESS)}, injected into {kernel})"));
        }
    }

    private DeviceFaultException Poison(AcceleratorException cause) =>
        Poison($"the device reported {cause.GetType().Name} ({FirstLine(cause.Message)})", cause);

    /// <summary>
    /// Poisons the accelerator with <paramref name="reported"/> (what failed, one line): also a
    /// library call on the device's stream (cuBLAS), whose failure leaves the stream's state unknown.
    /// </summary>
    private DeviceFaultException Poison(string reported, Exception? cause)
    {
        string message = $"{Device.Name}: {reported}; its context is unusable until the accelerator is created again";
        DeviceFaultException fault = cause is null ? new DeviceFaultException(message) : new DeviceFaultException(message, cause);
        _shared.Poison(fault);
        return fault;
    }

    private static string FirstLine(string message)
    {
        int end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }
}
