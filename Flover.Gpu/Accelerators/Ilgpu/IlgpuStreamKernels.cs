using Flover.Gpu.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Runtime;

namespace Flover.Gpu.Accelerators.Ilgpu;

/// <summary>
/// The device's compiled <see cref="IlgpuKernelSet"/> bound to one stream: what an accelerator (or a
/// stream sibling of it) launches. Every launch goes on that stream in call order, so an accelerator's
/// operations stay ordered while its siblings' run beside them.
/// </summary>
/// <remarks>
/// A launch that fails because of the device (on CUDA, an earlier kernel's sticky error is reported
/// by the next launch) throws the accelerator's poisoning fault instead. Each delegate is wrapped once
/// here, so launching allocates nothing.
/// </remarks>
internal sealed class IlgpuStreamKernels
{
    private readonly AcceleratorStream _stream;
    private readonly Func<AcceleratorException, Exception> _fault;

    public IlgpuStreamKernels(IlgpuKernelSet kernels, AcceleratorStream stream, Func<AcceleratorException, Exception> fault)
    {
        _stream = stream;
        _fault = fault;
        NormGroupSize = kernels.NormGroupSize;
        MatMul = Bind(kernels.MatMul);
        MatMulPartial = Bind(kernels.MatMulPartial);
        MatMulReduce = Bind(kernels.MatMulReduce);
        Activate = Bind(kernels.Activate);
        AddBiasAndResidual = Bind(kernels.AddBiasAndResidual);
        LayerNorm = Bind(kernels.LayerNorm);
        ArgMax = Bind(kernels.ArgMax);
        Sample = Bind(kernels.Sample);
        Embed = Bind(kernels.Embed);
        EmbedColumns = Bind(kernels.EmbedColumns);
        EmbedVocabularySlice = Bind(kernels.EmbedVocabularySlice);
        AddPositionEmbeddings = Bind(kernels.AddPositionEmbeddings);
        GatherRows = Bind(kernels.GatherRows);
        WriteKv = Bind(kernels.WriteKv);
        Scores = Bind(kernels.Scores);
        Softmax = Bind(kernels.Softmax);
        Combine = Bind(kernels.Combine);
        FusedAttention = Bind(kernels.FusedAttention);
        RmsNorm = Bind(kernels.RmsNorm);
        Rotary = Bind(kernels.Rotary);
        SwiGlu = Bind(kernels.SwiGlu);
        Narrow = Bind(kernels.Narrow);
        PresetFill = Bind(kernels.PresetFill);
    }

    /// <inheritdoc cref="IlgpuKernelSet.NormGroupSize"/>
    public int NormGroupSize { get; }

    public Action<Index2D, MatMulArgs> MatMul { get; }

    public Action<Index3D, MatMulArgs> MatMulPartial { get; }

    public Action<Index2D, MatMulArgs> MatMulReduce { get; }

    public Action<Index1D, ILGPU.ArrayView<float>, int> Activate { get; }

    public Action<Index2D, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, int> AddBiasAndResidual { get; }

    /// <inheritdoc cref="IlgpuKernelSet.LayerNorm"/>
    public Action<KernelConfig, LayerNormArgs> LayerNorm { get; }

    /// <inheritdoc cref="IlgpuKernelSet.ArgMax"/>
    public Action<KernelConfig, ArgMaxArgs> ArgMax { get; }

    /// <inheritdoc cref="IlgpuKernelSet.Sample"/>
    public Action<KernelConfig, SampleArgs> Sample { get; }

    public Action<Index2D, EmbedArgs> Embed { get; }

    public Action<Index2D, EmbedArgs> EmbedColumns { get; }

    public Action<Index2D, EmbedArgs> EmbedVocabularySlice { get; }

    public Action<Index2D, EmbedArgs> AddPositionEmbeddings { get; }

    public Action<Index2D, ILGPU.ArrayView<float>, ILGPU.ArrayView<int>, ILGPU.ArrayView<float>, int> GatherRows { get; }

    public Action<Index2D, KvArgs> WriteKv { get; }

    public Action<Index3D, KvArgs> Scores { get; }

    public Action<Index2D, KvArgs> Softmax { get; }

    public Action<Index3D, KvArgs> Combine { get; }

    /// <inheritdoc cref="IlgpuKernelSet.FusedAttention"/>
    public Action<KernelConfig, KvArgs> FusedAttention { get; }

    public Action<Index1D, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, int, float> RmsNorm { get; }

    public Action<Index2D, RotaryArgs> Rotary { get; }

    public Action<Index2D, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, int> SwiGlu { get; }

    /// <inheritdoc cref="IlgpuKernelSet.Narrow"/>
    public Action<Index1D, ILGPU.ArrayView<float>, ILGPU.ArrayView<ushort>, int> Narrow { get; }

    /// <inheritdoc cref="IlgpuKernelSet.PresetFill"/>
    public Action<Index1D, PresetFillArgs> PresetFill { get; }

    private Action<TIndex, T1> Bind<TIndex, T1>(Action<AcceleratorStream, TIndex, T1> kernel) => (index, a) =>
    {
        try
        {
            kernel(_stream, index, a);
        }
        catch (AcceleratorException exception)
        {
            throw _fault(exception);
        }
    };

    private Action<TIndex, T1, T2> Bind<TIndex, T1, T2>(Action<AcceleratorStream, TIndex, T1, T2> kernel) => (index, a, b) =>
    {
        try
        {
            kernel(_stream, index, a, b);
        }
        catch (AcceleratorException exception)
        {
            throw _fault(exception);
        }
    };

    private Action<TIndex, T1, T2, T3> Bind<TIndex, T1, T2, T3>(Action<AcceleratorStream, TIndex, T1, T2, T3> kernel) => (index, a, b, c) =>
    {
        try
        {
            kernel(_stream, index, a, b, c);
        }
        catch (AcceleratorException exception)
        {
            throw _fault(exception);
        }
    };

    private Action<TIndex, T1, T2, T3, T4> Bind<TIndex, T1, T2, T3, T4>(Action<AcceleratorStream, TIndex, T1, T2, T3, T4> kernel) => (index, a, b, c, d) =>
    {
        try
        {
            kernel(_stream, index, a, b, c, d);
        }
        catch (AcceleratorException exception)
        {
            throw _fault(exception);
        }
    };

    private Action<TIndex, T1, T2, T3, T4, T5> Bind<TIndex, T1, T2, T3, T4, T5>(Action<AcceleratorStream, TIndex, T1, T2, T3, T4, T5> kernel) => (index, a, b, c, d, e) =>
    {
        try
        {
            kernel(_stream, index, a, b, c, d, e);
        }
        catch (AcceleratorException exception)
        {
            throw _fault(exception);
        }
    };
}
