using Flover.Gpu;
using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Models;

namespace Flover.Actors.Tests.Inference;

/// <summary>
/// A shard's model on its own ILGPU CPU accelerator (both disposed together) that can have the
/// accelerator fault inside one of its decodes: the fault is injected right before that decode (on
/// the shard's own thread), so the real launch path poisons the accelerator and throws.
/// </summary>
internal sealed class FaultingIlgpuModel(IModel inner, IlgpuAccelerator accelerator, int faultAtDecode) : DelegatingModel(inner)
{
    private int _decodes;

    public override ModelLogits Decode(ReadOnlySpan<DecodeRow> rows)
    {
        if (++_decodes == faultAtDecode)
        {
            accelerator.InjectFault(launches: 1);
        }

        return Inner.Decode(rows);
    }

    public override void Dispose()
    {
        Inner.Dispose();
        accelerator.Dispose();
    }
}

/// <summary>A model whose device faults in every prefill that holds <paramref name="poison"/>: a request whose own data poisons the device.</summary>
internal sealed class DeviceFaultOnTokenModel(IModel inner, int poison) : DelegatingModel(inner)
{

    public override ModelLogits Prefill(IReadOnlyList<PrefillPrompt> prompts) =>
        prompts.Any(p => p.Tokens.Span.Contains(poison)) ? throw new DeviceFaultException($"test device: an illegal memory access was encountered (token {poison})") : Inner.Prefill(prompts);

    public override void Dispose() => Inner.Dispose();
}

/// <summary>A model whose device faults inside its <paramref name="atDecode"/>-th decode (1-based), before it would enter a collective.</summary>
internal sealed class DeviceFaultAtDecodeModel(IModel inner, int atDecode) : DelegatingModel(inner)
{
    private int _decodes;

    public override ModelLogits Decode(ReadOnlySpan<DecodeRow> rows) =>
        ++_decodes == atDecode ? throw new DeviceFaultException($"test device: an illegal memory access was encountered (decode {_decodes})") : Inner.Decode(rows);

    public override void Dispose() => Inner.Dispose();
}
