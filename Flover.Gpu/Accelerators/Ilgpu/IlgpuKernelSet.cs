using System.Reflection;
using Flover.Gpu.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Runtime;

namespace Flover.Gpu.Accelerators.Ilgpu;

/// <summary>
/// Every device kernel of the accelerator, compiled and loaded at start-up: ILGPU compiles on first
/// load, and a failed compile leaves its context unusable, so a kernel that cannot compile for the
/// device must stop the engine before it serves, with one clear error.
/// </summary>
internal sealed class IlgpuKernelSet
{
    private readonly Func<AcceleratorException, Exception> _fault;

    /// <summary>Compiles every kernel for <paramref name="accelerator"/>; a launch that fails with the device's error throws what <paramref name="fault"/> makes of it.</summary>
    public IlgpuKernelSet(ILGPU.Runtime.Accelerator accelerator, string deviceName, Func<AcceleratorException, Exception> fault)
    {
        _fault = fault;
        // The largest power of two the device allows, capped by the kernel's shared-memory tree.
        NormGroupSize = 1;
        while (NormGroupSize * 2 <= Math.Min(NormKernels.MaxGroupSize, accelerator.MaxNumThreadsPerGroup))
        {
            NormGroupSize *= 2;
        }

        MatMul = Guarded(Load<Index2D, MatMulArgs>(accelerator, deviceName, LinearKernels.MatMul));
        MatMulPartial = Guarded(Load<Index3D, MatMulArgs>(accelerator, deviceName, LinearKernels.MatMulPartial));
        MatMulReduce = Guarded(Load<Index2D, MatMulArgs>(accelerator, deviceName, LinearKernels.MatMulReduce));
        Activate = Guarded(Load<Index1D, ILGPU.ArrayView<float>, int>(accelerator, deviceName, LinearKernels.Activate));
        AddBiasAndResidual = Guarded(Load<Index2D, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, int>(accelerator, deviceName, LinearKernels.AddBiasAndResidual));
        LayerNorm = Guarded(Compile(deviceName, ((Action<LayerNormArgs>)NormKernels.LayerNorm).Method, () => accelerator.LoadStreamKernel<LayerNormArgs>(NormKernels.LayerNorm)));
        Embed = Guarded(Load<Index2D, EmbedArgs>(accelerator, deviceName, RowKernels.Embed));
        EmbedColumns = Guarded(Load<Index2D, EmbedArgs>(accelerator, deviceName, RowKernels.EmbedColumns));
        EmbedVocabularySlice = Guarded(Load<Index2D, EmbedArgs>(accelerator, deviceName, RowKernels.EmbedVocabularySlice));
        AddPositionEmbeddings = Guarded(Load<Index2D, EmbedArgs>(accelerator, deviceName, RowKernels.AddPositionEmbeddings));
        GatherRows = Guarded(Load<Index2D, ILGPU.ArrayView<float>, ILGPU.ArrayView<int>, ILGPU.ArrayView<float>, int>(accelerator, deviceName, RowKernels.GatherRows));
        WriteKv = Guarded(Load<Index2D, KvArgs>(accelerator, deviceName, RowKernels.WriteKv));
        Scores = Guarded(Load<Index3D, KvArgs>(accelerator, deviceName, AttentionKernels.Scores));
        Softmax = Guarded(Load<Index2D, KvArgs>(accelerator, deviceName, AttentionKernels.Softmax));
        Combine = Guarded(Load<Index3D, KvArgs>(accelerator, deviceName, AttentionKernels.Combine));
        FusedAttention = Guarded(Compile(deviceName, ((Action<KvArgs>)AttentionKernels.Fused).Method, () => accelerator.LoadStreamKernel<KvArgs>(AttentionKernels.Fused)));
        RmsNorm = Guarded(Load<Index1D, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, int, float>(accelerator, deviceName, LlamaKernels.RmsNorm));
        Rotary = Guarded(Load<Index2D, RotaryArgs>(accelerator, deviceName, LlamaKernels.Rotary));
        SwiGlu = Guarded(Load<Index2D, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, int>(accelerator, deviceName, LlamaKernels.SwiGlu));
        ArgMax = Guarded(Compile(deviceName, ((Action<ArgMaxArgs>)SamplingKernels.ArgMax).Method, () => accelerator.LoadStreamKernel<ArgMaxArgs>(SamplingKernels.ArgMax)));
        Sample = Guarded(Compile(deviceName, ((Action<SampleArgs>)SamplingKernels.Sample).Method, () => accelerator.LoadStreamKernel<SampleArgs>(SamplingKernels.Sample)));
        PresetFill = Guarded(Load<Index1D, PresetFillArgs>(accelerator, deviceName, PresetKernels.Fill));
    }

    /// <summary>
    /// Every kernel method, for compiling them ahead (the PTX check) and for documentation. A kernel
    /// whose first parameter is an index is implicitly grouped; the others (layer norm) are explicitly grouped.
    /// </summary>
    public static IReadOnlyList<MethodInfo> Methods { get; } =
    [
        Method(LinearKernels.MatMul),
        Method<Index3D, MatMulArgs>(LinearKernels.MatMulPartial),
        Method<Index2D, MatMulArgs>(LinearKernels.MatMulReduce),
        Method<Index1D, ILGPU.ArrayView<float>, int>(LinearKernels.Activate),
        Method<Index2D, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, int>(LinearKernels.AddBiasAndResidual),
        ((Action<LayerNormArgs>)NormKernels.LayerNorm).Method,
        Method<Index2D, EmbedArgs>(RowKernels.Embed),
        Method<Index2D, EmbedArgs>(RowKernels.EmbedColumns),
        Method<Index2D, EmbedArgs>(RowKernels.EmbedVocabularySlice),
        Method<Index2D, EmbedArgs>(RowKernels.AddPositionEmbeddings),
        Method<Index2D, ILGPU.ArrayView<float>, ILGPU.ArrayView<int>, ILGPU.ArrayView<float>, int>(RowKernels.GatherRows),
        Method<Index2D, KvArgs>(RowKernels.WriteKv),
        Method<Index3D, KvArgs>(AttentionKernels.Scores),
        Method<Index2D, KvArgs>(AttentionKernels.Softmax),
        Method<Index3D, KvArgs>(AttentionKernels.Combine),
        ((Action<KvArgs>)AttentionKernels.Fused).Method,
        ((Action<Index1D, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, int, float>)LlamaKernels.RmsNorm).Method,
        Method<Index2D, RotaryArgs>(LlamaKernels.Rotary),
        ((Action<Index2D, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, int>)LlamaKernels.SwiGlu).Method,
        ((Action<ArgMaxArgs>)SamplingKernels.ArgMax).Method,
        ((Action<SampleArgs>)SamplingKernels.Sample).Method,
        Method<Index1D, PresetFillArgs>(PresetKernels.Fill),
    ];

    public Action<Index2D, MatMulArgs> MatMul { get; }

    public Action<Index3D, MatMulArgs> MatMulPartial { get; }

    public Action<Index2D, MatMulArgs> MatMulReduce { get; }

    public Action<Index1D, ILGPU.ArrayView<float>, int> Activate { get; }

    public Action<Index2D, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, int> AddBiasAndResidual { get; }

    /// <summary>Layer norm, explicitly grouped: launch with <c>(rows, <see cref="NormGroupSize"/>)</c>.</summary>
    public Action<KernelConfig, LayerNormArgs> LayerNorm { get; }

    /// <summary>Threads per row of <see cref="LayerNorm"/>, <see cref="ArgMax"/> and <see cref="Sample"/>: fixed for the device, so its sums' order is too.</summary>
    public int NormGroupSize { get; }

    /// <summary>Greedy choice per row, explicitly grouped: launch with <c>(rows, <see cref="NormGroupSize"/>)</c>.</summary>
    public Action<KernelConfig, ArgMaxArgs> ArgMax { get; }

    /// <summary>Sampling per row, explicitly grouped: launch with <c>(rows, <see cref="NormGroupSize"/>)</c>.</summary>
    public Action<KernelConfig, SampleArgs> Sample { get; }

    /// <summary>Preset weights generated on the device, one counter pair per thread.</summary>
    public Action<Index1D, PresetFillArgs> PresetFill { get; }

    public Action<Index2D, EmbedArgs> Embed { get; }

    public Action<Index2D, EmbedArgs> EmbedColumns { get; }

    public Action<Index2D, EmbedArgs> EmbedVocabularySlice { get; }

    public Action<Index2D, EmbedArgs> AddPositionEmbeddings { get; }

    public Action<Index2D, ILGPU.ArrayView<float>, ILGPU.ArrayView<int>, ILGPU.ArrayView<float>, int> GatherRows { get; }

    public Action<Index2D, KvArgs> WriteKv { get; }

    public Action<Index3D, KvArgs> Scores { get; }

    public Action<Index2D, KvArgs> Softmax { get; }

    public Action<Index3D, KvArgs> Combine { get; }

    /// <summary>Scores, softmax and combine in one launch, explicitly grouped: launch with <c>(rows · query heads, <see cref="NormGroupSize"/>)</c>.</summary>
    public Action<KernelConfig, KvArgs> FusedAttention { get; }

    public Action<Index1D, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, int, float> RmsNorm { get; }

    public Action<Index2D, RotaryArgs> Rotary { get; }

    public Action<Index2D, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, int> SwiGlu { get; }

    /// <summary>
    /// A launch that fails because of the device (on CUDA, an earlier kernel's sticky error is
    /// reported by the next launch) throws the accelerator's poisoning fault instead. Wrapped once
    /// here, so launching allocates nothing.
    /// </summary>
    private Action<TIndex, T1> Guarded<TIndex, T1>(Action<TIndex, T1> kernel) => (index, a) =>
    {
        try
        {
            kernel(index, a);
        }
        catch (AcceleratorException exception)
        {
            throw _fault(exception);
        }
    };

    private Action<TIndex, T1, T2> Guarded<TIndex, T1, T2>(Action<TIndex, T1, T2> kernel) => (index, a, b) =>
    {
        try
        {
            kernel(index, a, b);
        }
        catch (AcceleratorException exception)
        {
            throw _fault(exception);
        }
    };

    private Action<TIndex, T1, T2, T3, T4> Guarded<TIndex, T1, T2, T3, T4>(Action<TIndex, T1, T2, T3, T4> kernel) => (index, a, b, c, d) =>
    {
        try
        {
            kernel(index, a, b, c, d);
        }
        catch (AcceleratorException exception)
        {
            throw _fault(exception);
        }
    };

    private Action<TIndex, T1, T2, T3> Guarded<TIndex, T1, T2, T3>(Action<TIndex, T1, T2, T3> kernel) => (index, a, b, c) =>
    {
        try
        {
            kernel(index, a, b, c);
        }
        catch (AcceleratorException exception)
        {
            throw _fault(exception);
        }
    };

    private Action<TIndex, T1, T2, T3, T4, T5> Guarded<TIndex, T1, T2, T3, T4, T5>(Action<TIndex, T1, T2, T3, T4, T5> kernel) => (index, a, b, c, d, e) =>
    {
        try
        {
            kernel(index, a, b, c, d, e);
        }
        catch (AcceleratorException exception)
        {
            throw _fault(exception);
        }
    };

    /// <summary>Compiles and loads one kernel, turning any compiler failure into one clear error.</summary>
    internal static Action<TIndex, T1> Load<TIndex, T1>(ILGPU.Runtime.Accelerator accelerator, string deviceName, Action<TIndex, T1> kernel)
        where TIndex : struct, IIndex
        where T1 : struct =>
        Compile(deviceName, kernel.Method, () => accelerator.LoadAutoGroupedStreamKernel(kernel));

    private static Action<TIndex, T1, T2> Load<TIndex, T1, T2>(ILGPU.Runtime.Accelerator accelerator, string deviceName, Action<TIndex, T1, T2> kernel)
        where TIndex : struct, IIndex
        where T1 : struct
        where T2 : struct =>
        Compile(deviceName, kernel.Method, () => accelerator.LoadAutoGroupedStreamKernel(kernel));

    private static Action<TIndex, T1, T2, T3, T4> Load<TIndex, T1, T2, T3, T4>(ILGPU.Runtime.Accelerator accelerator, string deviceName, Action<TIndex, T1, T2, T3, T4> kernel)
        where TIndex : struct, IIndex
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct =>
        Compile(deviceName, kernel.Method, () => accelerator.LoadAutoGroupedStreamKernel(kernel));

    private static Action<TIndex, T1, T2, T3> Load<TIndex, T1, T2, T3>(ILGPU.Runtime.Accelerator accelerator, string deviceName, Action<TIndex, T1, T2, T3> kernel)
        where TIndex : struct, IIndex
        where T1 : struct
        where T2 : struct
        where T3 : struct =>
        Compile(deviceName, kernel.Method, () => accelerator.LoadAutoGroupedStreamKernel(kernel));

    private static Action<TIndex, T1, T2, T3, T4, T5> Load<TIndex, T1, T2, T3, T4, T5>(ILGPU.Runtime.Accelerator accelerator, string deviceName, Action<TIndex, T1, T2, T3, T4, T5> kernel)
        where TIndex : struct, IIndex
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct
        where T5 : struct =>
        Compile(deviceName, kernel.Method, () => accelerator.LoadAutoGroupedStreamKernel(kernel));

    private static TKernel Compile<TKernel>(string deviceName, MethodInfo method, Func<TKernel> load)
    {
        try
        {
            return load();
        }
        catch (Exception exception) when (exception is not FloverException)
        {
            throw new FloverException($"{deviceName}: kernel {method.DeclaringType?.Name}.{method.Name} failed to compile ({exception.GetType().Name}: {FirstLine(exception.Message)}); the engine cannot start on this device.", exception);
        }
    }

    private static string FirstLine(string message)
    {
        int end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }

    private static MethodInfo Method(Action<Index2D, MatMulArgs> kernel) => kernel.Method;

    private static MethodInfo Method<TIndex, T1>(Action<TIndex, T1> kernel) => kernel.Method;

    private static MethodInfo Method<TIndex, T1, T2>(Action<TIndex, T1, T2> kernel) => kernel.Method;

    private static MethodInfo Method<TIndex, T1, T2, T3, T4>(Action<TIndex, T1, T2, T3, T4> kernel) => kernel.Method;
}
