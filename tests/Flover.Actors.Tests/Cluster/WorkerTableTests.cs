using Flover.Actors.Cluster;

namespace Flover.Actors.Tests.Cluster;

/// <summary>The frontend's worker table without actors: membership, states, routings counted until the next state.</summary>
public sealed class WorkerTableTests
{
    private static readonly WorkerFingerprint Tiny = new("tiny", "preset:tiny", "f32", "f32", "cpu", 1);

    [Fact]
    public void A_worker_is_routed_to_only_once_it_is_up_reachable_and_has_sent_its_state()
    {
        var table = new WorkerTable();
        var need = new RouteNeed("tiny", null, null);
        Assert.Null(table.Route(need));

        table.Up("a");
        Assert.Equal(["a"], table.Unregistered);
        Assert.Null(table.Route(need));

        Assert.True(table.Update("a", new WorkerState(Tiny, 0, 0, 0, 4, Serving: true)));
        Assert.False(table.Update("a", new WorkerState(Tiny, 1, 0, 1, 3, Serving: true)));
        Assert.Empty(table.Unregistered);
        Assert.Equal("a", table.Route(need)!.Address);
        Assert.False(table.Update("stranger", new WorkerState(Tiny, 0, 0, 0, 4, Serving: true)));
    }

    [Fact]
    public void Routings_since_the_last_state_count_as_waiting_so_a_burst_spreads()
    {
        var table = new WorkerTable();
        table.Up("a");
        table.Up("b");
        table.Update("a", new WorkerState(Tiny, 0, 0, 0, 4, Serving: true));
        table.Update("b", new WorkerState(Tiny, 0, 0, 0, 4, Serving: true));
        var need = new RouteNeed("tiny", null, null);

        string[] chosen = [.. Enumerable.Range(0, 4).Select(_ => table.Route(need)!.Address)];

        Assert.Equal(["a", "b", "a", "b"], chosen);
        // A new state replaces the estimate with what the worker holds.
        table.Update("a", new WorkerState(Tiny, 4, 0, 4, 0, Serving: true));
        Assert.Equal("b", table.Route(need)!.Address);
    }

    [Fact]
    public void Round_robin_takes_the_serving_workers_in_turn_whatever_their_load_and_fails_over_to_the_least_loaded()
    {
        var table = new WorkerTable(Flover.Configuration.ClusterRoutingSettings.RoundRobin);
        foreach (string address in new[] { "c", "a", "b" })
        {
            table.Up(address);
        }

        table.Update("a", new WorkerState(Tiny, 4, 0, 4, 0, Serving: true));
        table.Update("b", new WorkerState(Tiny, 0, 0, 0, 4, Serving: false));
        table.Update("c", new WorkerState(Tiny, 0, 0, 0, 4, Serving: true));
        var need = new RouteNeed("tiny", null, null);

        // a is full and c empty, b drains: in turn a, c, a, c all the same.
        Assert.Equal(["a", "c", "a", "c"], Enumerable.Range(0, 4).Select(_ => table.Route(need)!.Address));
        Assert.Null(table.Route(new RouteNeed("gpt2", null, null)));
        // A failover still goes where there is room.
        Assert.Equal("c", table.Route(new RouteNeed("tiny", Tiny, "b"))!.Address);
    }

    [Fact]
    public void An_unreachable_worker_is_lost_until_reachable_and_registered_again()
    {
        var table = new WorkerTable();
        table.Up("a");
        table.Update("a", new WorkerState(Tiny, 0, 0, 0, 4, Serving: true));

        Assert.True(table.Unreachable("a"));
        Assert.False(table.Unreachable("a"));
        Assert.Empty(table.Loads);
        Assert.False(table.Update("a", new WorkerState(Tiny, 0, 0, 0, 4, Serving: true)));

        table.Reachable("a");
        Assert.Equal(["a"], table.Unregistered);
        Assert.True(table.Update("a", new WorkerState(Tiny, 0, 0, 0, 4, Serving: true)));
        Assert.True(table.Remove("a"));
        Assert.False(table.Remove("a"));
    }

    [Fact]
    public void A_continuation_goes_only_to_another_worker_with_its_fingerprint_and_a_refusing_worker_waits_for_its_next_state()
    {
        var table = new WorkerTable();
        foreach (string address in new[] { "a", "b", "c" })
        {
            table.Up(address);
        }

        table.Update("a", new WorkerState(Tiny, 0, 0, 0, 4, Serving: true));
        table.Update("b", new WorkerState(Tiny with { WeightsHash = "other" }, 0, 0, 0, 4, Serving: true));
        table.Update("c", new WorkerState(Tiny, 3, 0, 3, 1, Serving: true));

        Assert.Equal("c", table.Route(new RouteNeed("tiny", Tiny, Excluded: "a"))!.Address);
        table.Refused("c");
        Assert.Null(table.Route(new RouteNeed("tiny", Tiny, Excluded: "a")));
        Assert.Equal("b", table.Route(new RouteNeed("tiny", null, Excluded: "a"))!.Address);
        table.Update("c", new WorkerState(Tiny, 3, 0, 3, 1, Serving: true));
        Assert.Equal("c", table.Route(new RouteNeed("tiny", Tiny, Excluded: "a"))!.Address);
    }
}
