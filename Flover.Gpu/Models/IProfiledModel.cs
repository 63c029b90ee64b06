namespace Flover.Gpu.Models;

/// <summary>A model whose passes can be timed phase by phase (<c>bench-decode --profile</c>): both families' whole models.</summary>
public interface IProfiledModel
{
    /// <summary>When set, every pass adds its phases' times to it, synchronising the accelerator at each phase; null (the default) records nothing.</summary>
    StepProfile? Profile { get; set; }
}
