namespace Flover.Gpu.Accelerators.Ilgpu;

/// <summary>
/// What an <see cref="IlgpuAccelerator"/> has done: kernel launches per operation and per kernel,
/// device allocations and every host crossing. Always on (a few integer additions per operation,
/// no allocation once every name has been seen), so tests and the GPU check can prove that a
/// model step runs on the device: every operation launched a kernel, nothing was allocated after
/// warm-up and only the logits came back to the host.
/// </summary>
public sealed class IlgpuCounters
{
    private readonly Dictionary<string, long> _operations = [];
    private readonly Dictionary<string, long> _kernels = [];
    private readonly HashSet<string> _withoutLaunch = [];
    private string? _operation;
    private long _launchesAtStart;

    /// <summary>Kernel launches.</summary>
    public long Launches { get; private set; }

    /// <summary>Device allocations (buffers and matrices).</summary>
    public long Allocations { get; private set; }

    /// <summary>Host-to-device copies and their bytes.</summary>
    public long HostToDeviceCopies { get; private set; }

    /// <inheritdoc cref="HostToDeviceCopies"/>
    public long HostToDeviceBytes { get; private set; }

    /// <summary>Device-to-host copies and their bytes.</summary>
    public long DeviceToHostCopies { get; private set; }

    /// <inheritdoc cref="DeviceToHostCopies"/>
    public long DeviceToHostBytes { get; private set; }

    /// <summary>Device-to-device copies (KV slot moves).</summary>
    public long DeviceCopies { get; private set; }

    /// <summary>How often each accelerator operation (MatMul, Attention, ...) ran.</summary>
    public IReadOnlyDictionary<string, long> Operations => _operations;

    /// <summary>How often each device kernel was launched.</summary>
    public IReadOnlyDictionary<string, long> Kernels => _kernels;

    /// <summary>Operations that returned without launching a kernel (a host fallback); empty when all ran on the device.</summary>
    public IReadOnlyCollection<string> OperationsWithoutLaunch => _withoutLaunch;

    /// <summary>Zeroes every count (after warm-up, say).</summary>
    public void Reset()
    {
        _operations.Clear();
        _kernels.Clear();
        _withoutLaunch.Clear();
        Launches = Allocations = HostToDeviceCopies = HostToDeviceBytes = DeviceToHostCopies = DeviceToHostBytes = DeviceCopies = 0;
    }

    internal void BeginOperation(string name)
    {
        _operation = name;
        _launchesAtStart = Launches;
        _operations[name] = _operations.GetValueOrDefault(name) + 1;
    }

    internal void EndOperation()
    {
        if (_operation is not null && Launches == _launchesAtStart)
        {
            _withoutLaunch.Add(_operation);
        }

        _operation = null;
    }

    internal void Launched(string kernel)
    {
        Launches++;
        _kernels[kernel] = _kernels.GetValueOrDefault(kernel) + 1;
    }

    internal void Allocated() => Allocations++;

    internal void HostToDevice(long bytes)
    {
        HostToDeviceCopies++;
        HostToDeviceBytes += bytes;
    }

    internal void DeviceToHost(long bytes)
    {
        DeviceToHostCopies++;
        DeviceToHostBytes += bytes;
    }

    internal void DeviceToDevice() => DeviceCopies++;
}
