namespace Flover.Host.Cli;

/// <summary>
/// How <c>info</c> and the serving log name the GEMM mode (<c>flover.engine.batch-invariant</c>),
/// saying plainly what the fast mode gives up.
/// </summary>
internal static class GemmMode
{
    /// <summary>The mode's short name: <c>batch-invariant</c> or <c>fast</c>.</summary>
    public static string Name(bool batchInvariant) => batchInvariant ? "batch-invariant" : "fast";

    /// <summary>One line: the mode and what it means for fused rows and failover.</summary>
    public static string Describe(bool batchInvariant) => batchInvariant
        ? "batch-invariant (flover.engine.batch-invariant = on): fused == alone bitwise, exact failover"
        : "fast (flover.engine.batch-invariant = off): cuBLAS tensor cores, NOT batch invariant: fused != alone bitwise, no exact failover";
}
