using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Accelerators;

/// <summary>
/// A weight matrix uploaded for <see cref="Accelerator.MatMul"/>: logically [<see cref="InputSize"/>,
/// <see cref="OutputSize"/>] (input-major, as GPT-2's Conv1D stores it), physically in whatever layout
/// the accelerator's matmul streams best (the CPU packs column panels).
/// </summary>
public abstract class DeviceMatrix : IDisposable
{
    /// <summary>Creates the handle of a <paramref name="inputSize"/> × <paramref name="outputSize"/> matrix of <paramref name="elementType"/>.</summary>
    protected DeviceMatrix(Accelerator accelerator, string name, int inputSize, int outputSize, TensorDType elementType)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputSize);
        Accelerator = accelerator;
        Name = name;
        InputSize = inputSize;
        OutputSize = outputSize;
        ElementType = elementType;
    }

    /// <summary>The accelerator holding the matrix.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>The tensor the matrix was made from (for error messages).</summary>
    public string Name { get; }

    /// <summary>K: the length of each input row.</summary>
    public int InputSize { get; }

    /// <summary>N: the length of each output row.</summary>
    public int OutputSize { get; }

    /// <summary>
    /// The precision the elements are held in (F32, F16 or BF16). Kernels widen half-precision
    /// elements exactly to F32 and accumulate in F32, so only the stored values, not the arithmetic,
    /// depend on it.
    /// </summary>
    public TensorDType ElementType { get; }

    /// <summary>Bytes the matrix occupies on the device.</summary>
    public abstract long ByteSize { get; }

    /// <summary>Whether <see cref="Dispose()"/> has released the matrix.</summary>
    public bool IsDisposed { get; private set; }

    /// <summary>Releases the device memory.</summary>
    public void Dispose()
    {
        if (IsDisposed)
        {
            return;
        }

        IsDisposed = true;
        DisposeCore();
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the device memory (called once).</summary>
    protected abstract void DisposeCore();
}

/// <summary>How a checkpoint tensor holds a matrix for <see cref="Accelerator.UploadMatrix(TensorView, MatrixLayout)"/>.</summary>
public enum MatrixLayout
{
    /// <summary>[input, output] (GPT-2 Conv1D: <c>c_attn</c>, <c>c_proj</c>, <c>c_fc</c>).</summary>
    InputMajor,

    /// <summary>[output, input] (<c>nn.Linear</c> and the LM head, which is the token embedding when tied).</summary>
    OutputMajor,
}

/// <summary>The element-wise function applied to a matmul's output (after its bias).</summary>
public enum KernelActivation
{
    /// <summary>Identity.</summary>
    None,

    /// <summary>GELU, tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    GeluTanh,

    /// <summary>GELU, exact: 0.5·x·(1 + erf(x/√2)).</summary>
    GeluExact,

    /// <summary>max(x, 0).</summary>
    Relu,
}
