using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Collectives;

/// <summary>
/// Collective operations among the ranks of a tensor-parallel group, on accelerator buffers (as
/// NCCL's communicator, one object per rank). Every rank calls the same collectives in the same
/// order; each call returns when its result is in this rank's buffer. Results never depend on
/// timing: reductions add the ranks' values in rank order. Implementations: in one process over
/// shared memory (<see cref="InProcessCommunicatorGroup"/>); across nodes later, behind this same
/// interface.
/// </summary>
public interface ICommunicator
{
    /// <summary>This rank, 0 ≤ <see cref="Rank"/> &lt; <see cref="Size"/>.</summary>
    int Rank { get; }

    /// <summary>Ranks in the group.</summary>
    int Size { get; }

    /// <summary>
    /// Replaces <paramref name="data"/> on every rank with the element-wise sum over ranks,
    /// <c>((x₀ + x₁) + x₂) + ...</c> in rank order, so every rank holds bitwise the same result.
    /// </summary>
    /// <exception cref="CommunicatorAbortedException">The group was aborted while this rank waited.</exception>
    void AllReduceSum(ArrayView<float> data);

    /// <summary>
    /// Gathers column slices: rank r holds <paramref name="rows"/> rows of its slice's width in
    /// <paramref name="local"/>; afterwards every rank's <paramref name="gathered"/> holds the rows of
    /// <paramref name="totalWidth"/> columns with rank r's slice at columns <c>offsets[r]</c>..
    /// <c>offsets[r + 1]</c> (<paramref name="offsets"/> has <see cref="Size"/> + 1 entries; slices may be uneven).
    /// </summary>
    /// <exception cref="CommunicatorAbortedException">The group was aborted while this rank waited.</exception>
    void AllGatherColumns(ArrayView<float> local, int rows, ReadOnlySpan<int> offsets, ArrayView<float> gathered, int totalWidth);

    /// <summary>Copies <paramref name="data"/> of rank <paramref name="root"/> into every other rank's <paramref name="data"/>.</summary>
    /// <exception cref="CommunicatorAbortedException">The group was aborted while this rank waited.</exception>
    void Broadcast(ArrayView<float> data, int root);

    /// <summary>Returns once every rank has called it.</summary>
    /// <exception cref="CommunicatorAbortedException">The group was aborted while this rank waited.</exception>
    void Barrier();
}

/// <summary>A collective could not complete because its group was aborted (a rank failed).</summary>
public sealed class CommunicatorAbortedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CommunicatorAbortedException()
        : base("The tensor-parallel group was aborted while this rank waited in a collective.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public CommunicatorAbortedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public CommunicatorAbortedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a collective that failed because rank <paramref name="lostRank"/>'s connection dropped.</summary>
    /// <param name="message">What failed, one line.</param>
    /// <param name="lostRank">The rank whose connection dropped (closed or reset by its end, not by this rank's abort).</param>
    /// <param name="innerException">The transport's error.</param>
    public CommunicatorAbortedException(string message, int lostRank, Exception innerException)
        : base(message, innerException)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lostRank);
        LostRank = lostRank;
    }

    /// <summary>
    /// The rank whose connection dropped while this rank waited for it (its process died, its node
    /// was lost, or it aborted the group after a failure of its own), or null when this rank's own
    /// group was aborted or the transport cannot tell (in one process nothing drops).
    /// </summary>
    public int? LostRank { get; }
}
