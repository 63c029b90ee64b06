using Akka.Actor;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Collectives;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;

namespace Flover.Actors.Inference.Sharding;

/// <summary>
/// One tensor-parallel shard: owns its accelerator (its share of the kernel threads), its slice of
/// the weights and its slice of the KV cache, and executes the step plans it is sent, meeting the
/// other shards in the collectives of their group. Runs on a pinned dispatcher: a plan blocks in
/// collectives until every shard arrives, which must never starve a shared pool.
/// </summary>
internal sealed class ShardActor : ReceiveActor
{
    private readonly Accelerator _accelerator;
    private readonly Gpt2Model _model;
    private readonly ICommunicatorGroup _group;
    private readonly int _rank;

    public ShardActor(IModelWeights weights, Gpt2ModelOptions options, EngineOptions engine, ICommunicatorGroup group, int rank)
    {
        _group = group;
        _rank = rank;
        // Loaded in the constructor, on the shard's own thread: a failure stops the actor and its
        // supervisor (the group) learns it through death watch.
        // engine.Device: on a GPU every shard opens the same device (see TensorParallelModel).
        _accelerator = DeviceAccelerators.Open(engine.Device, engine);
        try
        {
            _model = new Gpt2Model(_accelerator, weights, options with { Shard = new TensorShard(group[rank]) });
        }
        catch
        {
            _accelerator.Dispose();
            throw;
        }

        Receive<ShardReadyQuery>(_ => Sender.Tell(new ShardReady(_rank, _model.WeightBytes)));
        Receive<ShardStepPlan>(Execute);
        Receive<ShardCopyPlan>(plan =>
        {
            _model.Copy(plan.FromSlot, plan.ToSlot, plan.Length);
            Sender.Tell(new ShardStepCompleted(plan.Step, _rank, null));
        });
    }

    protected override void PostStop()
    {
        _model.Dispose();
        _accelerator.Dispose();
    }

    private void Execute(ShardStepPlan plan)
    {
        try
        {
            ModelLogits logits = plan.Prefill is { } prompts
                ? _model.Prefill([.. prompts.Select(p => new PrefillPrompt(p.Slot, p.Tokens, p.StartPosition, p.Logits))])
                : _model.Decode(plan.Decode ?? []);
            Sender.Tell(new ShardStepCompleted(plan.Step, _rank, _rank == 0 ? logits : null));
        }
        catch (Exception exception)
        {
            // The other shards may be waiting for this one inside a collective: wake them, then
            // report. The actor stays alive; its KV may be stale, which the decode loop repairs by
            // re-prefilling every sequence after a failed step.
            _group.Abort();
            Sender.Tell(new ShardStepFailed(plan.Step, _rank, exception is CommunicatorAbortedException ? "aborted" : exception.Message));
        }
    }
}
