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
/// <remarks>
/// The kernels take the stream they run on as their first argument, so one compiled set serves every
/// stream of the device: the accelerator and its stream siblings (model instances running
/// concurrently) bind it to their own stream with <see cref="On"/>.
/// </remarks>
internal sealed class IlgpuKernelSet
{
    /// <summary>Compiles every kernel for <paramref name="accelerator"/>.</summary>
    public IlgpuKernelSet(ILGPU.Runtime.Accelerator accelerator, string deviceName)
    {
        // The largest power of two the device allows, capped by the kernel's shared-memory tree.
        NormGroupSize = 1;
        while (NormGroupSize * 2 <= Math.Min(NormKernels.MaxGroupSize, accelerator.MaxNumThreadsPerGroup))
        {
            NormGroupSize *= 2;
        }

        MatMul = Load<Index2D, MatMulArgs>(accelerator, deviceName, LinearKernels.MatMul);
        MatMulPartial = Load<Index3D, MatMulArgs>(accelerator, deviceName, LinearKernels.MatMulPartial);
        MatMulReduce = Load<Index2D, MatMulArgs>(accelerator, deviceName, LinearKernels.MatMulReduce);
        Activate = Load<Index1D, ILGPU.ArrayView<float>, int>(accelerator, deviceName, LinearKernels.Activate);
        AddBiasAndResidual = Load<Index2D, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, int>(accelerator, deviceName, LinearKernels.AddBiasAndResidual);
        LayerNorm = Compile(deviceName, ((Action<LayerNormArgs>)NormKernels.LayerNorm).Method, () => accelerator.LoadKernel<LayerNormArgs>(NormKernels.LayerNorm));
        Embed = Load<Index2D, EmbedArgs>(accelerator, deviceName, RowKernels.Embed);
        EmbedColumns = Load<Index2D, EmbedArgs>(accelerator, deviceName, RowKernels.EmbedColumns);
        EmbedVocabularySlice = Load<Index2D, EmbedArgs>(accelerator, deviceName, RowKernels.EmbedVocabularySlice);
        AddPositionEmbeddings = Load<Index2D, EmbedArgs>(accelerator, deviceName, RowKernels.AddPositionEmbeddings);
        GatherRows = Load<Index2D, ILGPU.ArrayView<float>, ILGPU.ArrayView<int>, ILGPU.ArrayView<float>, int>(accelerator, deviceName, RowKernels.GatherRows);
        WriteKv = Load<Index2D, KvArgs>(accelerator, deviceName, RowKernels.WriteKv);
        Scores = Load<Index3D, KvArgs>(accelerator, deviceName, AttentionKernels.Scores);
        Softmax = Load<Index2D, KvArgs>(accelerator, deviceName, AttentionKernels.Softmax);
        Combine = Load<Index3D, KvArgs>(accelerator, deviceName, AttentionKernels.Combine);
        FusedAttention = Compile(deviceName, ((Action<KvArgs>)AttentionKernels.Fused).Method, () => accelerator.LoadKernel<KvArgs>(AttentionKernels.Fused));
        RmsNorm = Load<Index1D, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, int, float>(accelerator, deviceName, LlamaKernels.RmsNorm);
        Rotary = Load<Index2D, RotaryArgs>(accelerator, deviceName, LlamaKernels.Rotary);
        SwiGlu = Load<Index2D, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, int>(accelerator, deviceName, LlamaKernels.SwiGlu);
        ArgMax = Compile(deviceName, ((Action<ArgMaxArgs>)SamplingKernels.ArgMax).Method, () => accelerator.LoadKernel<ArgMaxArgs>(SamplingKernels.ArgMax));
        Sample = Compile(deviceName, ((Action<SampleArgs>)SamplingKernels.Sample).Method, () => accelerator.LoadKernel<SampleArgs>(SamplingKernels.Sample));
        Narrow = Load<Index1D, ILGPU.ArrayView<float>, ILGPU.ArrayView<ushort>, int>(accelerator, deviceName, GemmKernels.Narrow);
        PresetFill = Load<Index1D, PresetFillArgs>(accelerator, deviceName, PresetKernels.Fill);
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
        Method<Index1D, ILGPU.ArrayView<float>, ILGPU.ArrayView<ushort>, int>(GemmKernels.Narrow),
        Method<Index1D, PresetFillArgs>(PresetKernels.Fill),
    ];

    public Action<AcceleratorStream, Index2D, MatMulArgs> MatMul { get; }

    public Action<AcceleratorStream, Index3D, MatMulArgs> MatMulPartial { get; }

    public Action<AcceleratorStream, Index2D, MatMulArgs> MatMulReduce { get; }

    public Action<AcceleratorStream, Index1D, ILGPU.ArrayView<float>, int> Activate { get; }

    public Action<AcceleratorStream, Index2D, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, int> AddBiasAndResidual { get; }

    /// <summary>Layer norm, explicitly grouped: launch with <c>(rows, <see cref="NormGroupSize"/>)</c>.</summary>
    public Action<AcceleratorStream, KernelConfig, LayerNormArgs> LayerNorm { get; }

    /// <summary>Threads per row of <see cref="LayerNorm"/>, <see cref="ArgMax"/> and <see cref="Sample"/>: fixed for the device, so its sums' order is too.</summary>
    public int NormGroupSize { get; }

    /// <summary>Greedy choice per row, explicitly grouped: launch with <c>(rows, <see cref="NormGroupSize"/>)</c>.</summary>
    public Action<AcceleratorStream, KernelConfig, ArgMaxArgs> ArgMax { get; }

    /// <summary>Sampling per row, explicitly grouped: launch with <c>(rows, <see cref="NormGroupSize"/>)</c>.</summary>
    public Action<AcceleratorStream, KernelConfig, SampleArgs> Sample { get; }

    /// <summary>Preset weights generated on the device, one counter pair per thread.</summary>
    public Action<AcceleratorStream, Index1D, PresetFillArgs> PresetFill { get; }

    public Action<AcceleratorStream, Index2D, EmbedArgs> Embed { get; }

    public Action<AcceleratorStream, Index2D, EmbedArgs> EmbedColumns { get; }

    public Action<AcceleratorStream, Index2D, EmbedArgs> EmbedVocabularySlice { get; }

    public Action<AcceleratorStream, Index2D, EmbedArgs> AddPositionEmbeddings { get; }

    public Action<AcceleratorStream, Index2D, ILGPU.ArrayView<float>, ILGPU.ArrayView<int>, ILGPU.ArrayView<float>, int> GatherRows { get; }

    public Action<AcceleratorStream, Index2D, KvArgs> WriteKv { get; }

    public Action<AcceleratorStream, Index3D, KvArgs> Scores { get; }

    public Action<AcceleratorStream, Index2D, KvArgs> Softmax { get; }

    public Action<AcceleratorStream, Index3D, KvArgs> Combine { get; }

    /// <summary>Scores, softmax and combine in one launch, explicitly grouped: launch with <c>(rows · query heads, <see cref="NormGroupSize"/>)</c>.</summary>
    public Action<AcceleratorStream, KernelConfig, KvArgs> FusedAttention { get; }

    public Action<AcceleratorStream, Index1D, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, int, float> RmsNorm { get; }

    public Action<AcceleratorStream, Index2D, RotaryArgs> Rotary { get; }

    public Action<AcceleratorStream, Index2D, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, int> SwiGlu { get; }

    /// <summary>F32 activations rounded to 16-bit for cuBLAS (the fast GEMM mode only).</summary>
    public Action<AcceleratorStream, Index1D, ILGPU.ArrayView<float>, ILGPU.ArrayView<ushort>, int> Narrow { get; }

    /// <summary>Compiles and loads one kernel, turning any compiler failure into one clear error.</summary>
    internal static Action<AcceleratorStream, TIndex, T1> Load<TIndex, T1>(ILGPU.Runtime.Accelerator accelerator, string deviceName, Action<TIndex, T1> kernel)
        where TIndex : struct, IIndex
        where T1 : struct =>
        Compile(deviceName, kernel.Method, () => accelerator.LoadAutoGroupedKernel(kernel));

    private static Action<AcceleratorStream, TIndex, T1, T2> Load<TIndex, T1, T2>(ILGPU.Runtime.Accelerator accelerator, string deviceName, Action<TIndex, T1, T2> kernel)
        where TIndex : struct, IIndex
        where T1 : struct
        where T2 : struct =>
        Compile(deviceName, kernel.Method, () => accelerator.LoadAutoGroupedKernel(kernel));

    private static Action<AcceleratorStream, TIndex, T1, T2, T3, T4> Load<TIndex, T1, T2, T3, T4>(ILGPU.Runtime.Accelerator accelerator, string deviceName, Action<TIndex, T1, T2, T3, T4> kernel)
        where TIndex : struct, IIndex
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct =>
        Compile(deviceName, kernel.Method, () => accelerator.LoadAutoGroupedKernel(kernel));

    private static Action<AcceleratorStream, TIndex, T1, T2, T3> Load<TIndex, T1, T2, T3>(ILGPU.Runtime.Accelerator accelerator, string deviceName, Action<TIndex, T1, T2, T3> kernel)
        where TIndex : struct, IIndex
        where T1 : struct
        where T2 : struct
        where T3 : struct =>
        Compile(deviceName, kernel.Method, () => accelerator.LoadAutoGroupedKernel(kernel));

    private static Action<AcceleratorStream, TIndex, T1, T2, T3, T4, T5> Load<TIndex, T1, T2, T3, T4, T5>(ILGPU.Runtime.Accelerator accelerator, string deviceName, Action<TIndex, T1, T2, T3, T4, T5> kernel)
        where TIndex : struct, IIndex
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct
        where T5 : struct =>
        Compile(deviceName, kernel.Method, () => accelerator.LoadAutoGroupedKernel(kernel));

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

    private static MethodInfo Method<TIndex, T1, T2, T3>(Action<TIndex, T1, T2, T3> kernel) => kernel.Method;

    private static MethodInfo Method<TIndex, T1, T2, T3, T4>(Action<TIndex, T1, T2, T3, T4> kernel) => kernel.Method;

    /// <summary>These kernels launched on <paramref name="stream"/>; a launch failing with the device's error throws what <paramref name="fault"/> makes of it.</summary>
    public IlgpuStreamKernels On(AcceleratorStream stream, Func<AcceleratorException, Exception> fault) => new(this, stream, fault);
}
