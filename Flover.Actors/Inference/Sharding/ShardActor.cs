using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Flover.Gpu;
using Flover.Gpu.Collectives;
using Flover.Gpu.Models;

namespace Flover.Actors.Inference.Sharding;

/// <summary>
/// One shard of the decode loop's model: owns its model (the whole model, or a tensor-parallel
/// slice with its share of the kernel threads and of the KV cache) and executes the steps it is
/// sent, meeting the other shards in the collectives of their group. Runs on a pinned dispatcher:
/// a step blocks in kernels and collectives until every shard arrives, which must never starve a
/// shared pool; the decode loop itself never blocks on it.
/// </summary>
internal sealed class ShardActor : ReceiveActor
{
    private readonly int _rank;
    private readonly IModel _loaded;
    private readonly IModel _model;
    private readonly ModelStepRunner _runner;
    private readonly RelinkableCommunicator? _communicator;
    private ICommunicatorGroup? _group;
    private string? _deviceFault;

    public ShardActor(ShardedModel spec, int slots, ICommunicatorGroup? group, int rank)
    {
        _rank = rank;
        _group = group;
        _communicator = group is null ? null : new RelinkableCommunicator(group[rank]);
        // Loaded in the constructor, on the shard's own thread: a failure stops the actor and the
        // decode loop, which watches it, learns it through Terminated.
        _loaded = spec.Create(slots, _communicator);
        _model = spec.Wrap?.Invoke(_loaded) ?? _loaded;
        _runner = new ModelStepRunner(_model);
        Receive<ShardReadyQuery>(_ =>
        {
            var held = _loaded as Gpu.Models.IModelWeightsHeld;
            Sender.Tell(new ShardReady(_rank, held?.WeightBytes ?? 0, held?.WeightDType));
        });
        Receive<ShardStep>(Execute);
        Receive<UseGroup>(use =>
        {
            _group = use.Group;
            _communicator!.Relink(use.Group[_rank]);
        });
    }

    protected override void PostStop()
    {
        if (_deviceFault is null)
        {
            DisposeModels();
        }
    }

    private void DisposeModels()
    {
        if (!ReferenceEquals(_model, _loaded))
        {
            _model.Dispose();
        }

        _loaded.Dispose();
    }

    private void Execute(ShardStep step)
    {
        if (_deviceFault is not null)
        {
            // Its model is gone: only a replacement takes steps again.
            Sender.Tell(new ShardDeviceFault(step.Step, _rank, _deviceFault));
            return;
        }

        long started = Stopwatch.GetTimestamp();
        try
        {
            ModelStepResult result = _runner.Run(step.Work);
            Sender.Tell(new ShardStepDone(step.Step, _rank, _rank == 0 ? result : null, Stopwatch.GetElapsedTime(started), _runner.LastCopyTime));
        }
        catch (Exception exception) when (DeviceFault(exception) is { } fault)
        {
            // The context is poisoned: every later call would fail too. The shard frees its model
            // and accelerator here, on its own thread and before it answers, so the replacement the
            // decode loop starts (which creates both again through the factory) never overlaps the
            // poisoned context on the device. The shard recovers nothing itself: reloading takes
            // long, and the loop already knows how to wait for a starting shard (AllReady) and how to
            // stop serving when one cannot start.
            _group?.Abort();
            _deviceFault = fault.Message;
            try
            {
                DisposeModels();
            }
            catch (Exception disposing)
            {
                // Freeing on a poisoned context may fail; destroying the context frees it anyway.
                _deviceFault += $" (freeing the model also failed: {disposing.Message})";
            }

            Sender.Tell(new ShardDeviceFault(step.Step, _rank, _deviceFault));
        }
        catch (Exception exception)
        {
            // The other shards may be waiting for this one inside a collective: wake them, then
            // report. The actor stays alive; its KV may be stale, which the decode loop repairs by
            // re-prefilling every sequence after a failed step.
            _group?.Abort();
            bool aborted = exception is CommunicatorAbortedException;
            if (!aborted && _group is TcpShardGroup)
            {
                // Across nodes the decode loop may end the step on another rank's report first and
                // drop this one: the cause is kept here, on the rank's own node.
                Context.GetLogger().Error(exception, "Tensor-parallel rank {0} failed step {1}.", _rank, step.Step);
            }

            // Across nodes the transport knows whose connection dropped under the collective: the
            // loop asks that rank's node last when it places the group again.
            int? lost = (exception as CommunicatorAbortedException)?.LostRank;
            Sender.Tell(new ShardStepFailed(step.Step, _rank, aborted ? "aborted by another shard's failure" : exception.Message, aborted) { LostRank = lost });
        }
    }

    /// <summary>The device fault behind <paramref name="exception"/>, if any (a model may wrap it).</summary>
    private static DeviceFaultException? DeviceFault(Exception exception)
    {
        for (Exception? cause = exception; cause is not null; cause = cause.InnerException)
        {
            if (cause is DeviceFaultException fault)
            {
                return fault;
            }
        }

        return null;
    }
}
