using Flover.Actors.Cluster;
using Prometheus;

namespace Flover.Host.Http;

/// <summary>
/// A cluster frontend's per-worker gauges (docs/OPERATIONS.md, "Cluster metrics"), labelled with
/// the worker's cluster address and the model it runs. They are read from the frontend's
/// <c>ClusterEngine</c> (<see cref="ListWorkers"/>) just before each scrape, so they show the
/// load the routing decides by (the workers' last published states), and a worker that left is
/// dropped from the next scrape. Only frontends have them: a node's own engine is on the engine's
/// unlabelled gauges.
/// </summary>
internal sealed class ClusterMetrics
{
    private readonly Gauge _running;
    private readonly Gauge _waiting;
    private readonly Gauge _kvSlots;
    private readonly Gauge _serving;
    private readonly Lock _gate = new();
    private HashSet<(string Model, string Worker)> _shown = [];

    private ClusterMetrics(CollectorRegistry registry)
    {
        MetricFactory factory = Prometheus.Metrics.WithCustomRegistry(registry);
        // Labels in name order, as the other labelled metrics.
        string[] labels = ["model", "worker"];
        _running = factory.CreateGauge("flover_cluster_worker_running", "Requests holding a KV slot on a worker, from its last published state.", labels);
        _waiting = factory.CreateGauge("flover_cluster_worker_waiting", "Requests queued on a worker, counting those this frontend sent since its last state.", labels);
        _kvSlots = factory.CreateGauge("flover_cluster_worker_kv_slots", "KV cache slots of a worker's pool.", labels);
        _serving = factory.CreateGauge("flover_cluster_worker_serving", "1 while a worker takes new requests, 0 while it drains or after it refused one.", labels);
    }

    /// <summary>Creates the gauges on <paramref name="registry"/>, read from <paramref name="engine"/>'s ClusterEngine at each scrape (waiting at most <paramref name="timeout"/>).</summary>
    public static ClusterMetrics Register(CollectorRegistry registry, EngineClient engine, TimeSpan timeout)
    {
        var metrics = new ClusterMetrics(registry);
        registry.AddBeforeCollectCallback(async cancellation => metrics.Update(await engine.WorkersAsync(timeout, cancellation).ConfigureAwait(false)));
        return metrics;
    }

    /// <summary>Sets the gauges to <paramref name="workers"/> and drops the series of workers no longer there; null (no answer in time) keeps the last values.</summary>
    public void Update(IReadOnlyList<WorkerLoad>? workers)
    {
        if (workers is null)
        {
            return;
        }

        lock (_gate)
        {
            var shown = new HashSet<(string, string)>();
            foreach (WorkerLoad worker in workers)
            {
                string model = worker.Fingerprint.Model;
                shown.Add((model, worker.Address));
                _running.WithLabels(model, worker.Address).Set(worker.Running);
                _waiting.WithLabels(model, worker.Address).Set(worker.Waiting);
                _kvSlots.WithLabels(model, worker.Address).Set(worker.KvSlots);
                _serving.WithLabels(model, worker.Address).Set(worker.Serving ? 1 : 0);
            }

            foreach ((string model, string address) in _shown.Where(s => !shown.Contains(s)))
            {
                _running.RemoveLabelled(model, address);
                _waiting.RemoveLabelled(model, address);
                _kvSlots.RemoveLabelled(model, address);
                _serving.RemoveLabelled(model, address);
            }

            _shown = shown;
        }
    }
}
