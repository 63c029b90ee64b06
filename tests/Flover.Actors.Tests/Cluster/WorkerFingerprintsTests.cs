using Flover.Actors.Cluster;
using Flover.Actors.Hosting;
using Flover.Configuration;
using Flover.Gpu.Accelerators;

namespace Flover.Actors.Tests.Cluster;

/// <summary>The fingerprint a worker builds from its settings carries the GEMM mode (<c>flover.engine.batch-invariant</c>).</summary>
public sealed class WorkerFingerprintsTests
{
    [Fact]
    public void The_default_mode_is_batch_invariant_and_equal_workers_may_fail_over()
    {
        WorkerFingerprint first = For(null);
        WorkerFingerprint second = For(null);

        Assert.True(first.BatchInvariant);
        Assert.True(first.CanContinueOn(second));
    }

    [Fact]
    public void Off_is_carried_into_the_fingerprint_and_rules_out_failover_even_between_equal_workers()
    {
        WorkerFingerprint fast = For("flover.engine.batch-invariant = off");

        Assert.Equal(new WorkerFingerprint("tiny", "preset:tiny", "auto", "f32", "cuda", 1, BatchInvariant: false), fast);
        Assert.False(fast.CanContinueOn(For("flover.engine.batch-invariant = off")));
        Assert.False(For(null).CanContinueOn(fast));
    }

    private static WorkerFingerprint For(string? set)
    {
        var sources = new ConfigurationSources { Overrides = set is null ? [] : [set], Environment = _ => null, WorkingDirectory = AppContext.BaseDirectory };
        return WorkerFingerprints.For("tiny", FloverModel.FromPreset("tiny"), FloverSettings.From(FloverConfiguration.Load(sources)), DeviceSpec.Parse("cuda"));
    }
}
