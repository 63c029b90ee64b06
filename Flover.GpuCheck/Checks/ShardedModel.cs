using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Collectives;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;

namespace Flover.GpuCheck.Checks;

/// <summary>
/// GPT-2 split over tensor-parallel shards that each run on their own device accelerator (here:
/// shards on the one GPU, or on ILGPU's CPU accelerator), their collectives going through the host
/// (<see cref="HostStagedCommunicatorGroup"/>). Every call runs on all shards at once, one thread
/// each; rank 0's logits are the result (every rank gathers the whole vocabulary).
/// </summary>
internal sealed class ShardedModel : IModel
{
    private readonly Accelerator[] _accelerators;
    private readonly Gpt2Model[] _shards;
    private readonly HostStagedCommunicatorGroup _group;

    public ShardedModel(Func<Accelerator> open, IModelWeights weights, Gpt2ModelOptions options, int shardCount)
    {
        var group = _group = new HostStagedCommunicatorGroup(shardCount);
        _accelerators = new Accelerator[shardCount];
        _shards = new Gpt2Model[shardCount];
        for (int rank = 0; rank < shardCount; rank++)
        {
            _accelerators[rank] = open();
            _shards[rank] = new Gpt2Model(_accelerators[rank], weights, options with { Shard = new TensorShard(group[rank]) });
        }
    }

    public int VocabularySize => _shards[0].VocabularySize;

    public int SlotCount => _shards[0].SlotCount;

    public int SlotCapacity => _shards[0].SlotCapacity;

    public long KvBytesPerSlot => _shards.Sum(s => s.KvBytesPerSlot);

    public ModelLogits Prefill(IReadOnlyList<PrefillPrompt> prompts) => OnAll(shard => shard.Prefill(prompts));

    public ModelLogits Decode(ReadOnlySpan<DecodeRow> rows)
    {
        DecodeRow[] copy = rows.ToArray();
        return OnAll(shard => shard.Decode(copy));
    }

    public void Copy(int fromSlot, int toSlot, int length)
    {
        foreach (Gpt2Model shard in _shards)
        {
            shard.Copy(fromSlot, toSlot, length);
        }
    }

    public void Release(int slot)
    {
        foreach (Gpt2Model shard in _shards)
        {
            shard.Release(slot);
        }
    }

    public void Dispose()
    {
        foreach (Gpt2Model shard in _shards)
        {
            shard.Dispose();
        }

        foreach (Accelerator accelerator in _accelerators)
        {
            accelerator.Dispose();
        }
    }

    private ModelLogits OnAll(Func<Gpt2Model, ModelLogits> call)
    {
        // One thread per shard for the whole call: the shards meet in blocking collectives, so they
        // must all run at once (a thread pool could run two on one thread and deadlock).
        var results = new ModelLogits[_shards.Length];
        var failures = new Exception?[_shards.Length];
        Thread[] threads = [.. Enumerable.Range(0, _shards.Length).Select(rank => new Thread(() =>
        {
            try
            {
                results[rank] = call(_shards[rank]);
            }
            catch (Exception exception)
            {
                failures[rank] = exception;
                _group.Abort();
            }
        }))];
        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        return failures.FirstOrDefault(f => f is not null) is { } failure ? throw new InvalidOperationException("A shard failed.", failure) : results[0];
    }
}
