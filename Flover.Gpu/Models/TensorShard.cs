using Flover.Gpu.Collectives;

namespace Flover.Gpu.Models;

/// <summary>
/// Which part of a Megatron-style tensor-parallel split a model (<see cref="Gpt2.Gpt2Model"/> or
/// <see cref="Llama.LlamaModel"/>) holds: rank r of <see cref="Count"/> holds query heads
/// <c>[r·H/n, (r+1)·H/n)</c> (the head count must divide; a LLaMA model's key/value heads are split
/// too, or replicated when there are fewer than shards), MLP columns <c>[r·I/n, (r+1)·I/n)</c> and
/// vocabulary rows <c>[r·V/n, (r+1)·V/n)</c> (both may be uneven, so GPT-2's 50 257 tokens split
/// over any count); norms and the biases added after a reduction are replicated.
/// </summary>
/// <param name="Communicator">This rank's view of the group; all ranks must run the same calls.</param>
public sealed record TensorShard(ICommunicator Communicator)
{
    /// <summary>This shard's rank.</summary>
    public int Rank => Communicator.Rank;

    /// <summary>Shards in the group.</summary>
    public int Count => Communicator.Size;

    /// <summary>The first of this shard's share of <paramref name="total"/> items and how many it holds.</summary>
    public (int Start, int Count) Share(int total) => Share(total, Rank);

    /// <summary>Rank <paramref name="rank"/>'s share of <paramref name="total"/> items (uneven shares differ by at most one).</summary>
    public (int Start, int Count) Share(int total, int rank) => Share(total, rank, Count);

    /// <summary>Rank <paramref name="rank"/>'s share of <paramref name="total"/> items over <paramref name="count"/> ranks.</summary>
    internal static (int Start, int Count) Share(int total, int rank, int count)
    {
        int start = (int)((long)total * rank / count);
        int end = (int)((long)total * (rank + 1) / count);
        return (start, end - start);
    }
}
