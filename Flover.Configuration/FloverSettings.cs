namespace Flover.Configuration;

/// <summary>
/// Flover's own settings (<c>flover.*</c>), read once from a validated <see cref="Config"/> with
/// their ranges and allowed words checked, so that components take typed values and a bad
/// value fails at start-up. Every default lives in <c>hocon/reference.conf</c>, not here.
/// </summary>
/// <param name="Engine">The inference engine (<c>flover.engine</c>).</param>
/// <param name="Scheduler">The request scheduler (<c>flover.scheduler</c>).</param>
/// <param name="Http">The HTTP server (<c>flover.http</c>).</param>
public sealed record FloverSettings(EngineSettings Engine, SchedulerSettings Scheduler, HttpSettings Http)
{
    /// <summary>Reads and checks every <c>flover.*</c> setting of <paramref name="config"/> (which must include reference.conf's defaults).</summary>
    public static FloverSettings From(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var reader = new SettingsReader(config);
        var engine = new EngineSettings(
            reader.Int<EngineSettings>(nameof(EngineSettings.Threads)),
            reader.Word("flover.engine.weight-dtype", EngineSettings.WeightDTypes),
            reader.Int<EngineSettings>(nameof(EngineSettings.KvSlots)),
            reader.Int<EngineSettings>(nameof(EngineSettings.MaxPositions)),
            reader.Int<EngineSettings>(nameof(EngineSettings.PrefillTokenBudget)),
            reader.Int<EngineSettings>(nameof(EngineSettings.MaxWaiting)),
            reader.Word("flover.engine.memory-mode", EngineSettings.MemoryModes))
        {
            IterationEventsInterval = reader.Duration<EngineSettings>(nameof(EngineSettings.IterationEventsInterval)),
            StepTimeout = reader.Duration<EngineSettings>(nameof(EngineSettings.StepTimeout)),
            MaxStepFailures = reader.Int<EngineSettings>(nameof(EngineSettings.MaxStepFailures)),
            MinStepInterval = reader.Duration<EngineSettings>(nameof(EngineSettings.MinStepInterval)),
            Device = reader.Device("flover.engine.device"),
            KvDType = reader.Word("flover.engine.kv-dtype", EngineSettings.KvDTypes),
            DeviceSampling = reader.Word("flover.engine.device-sampling", EngineSettings.DeviceSamplings),
            // The validator has already held it to a boolean (on/off, true/false, yes/no) like its default.
            BatchInvariant = config.GetBoolean("flover.engine.batch-invariant", @default: true),
        };
        var scheduler = new SchedulerSettings(
            reader.Word("flover.scheduler.kind", SchedulerSettings.Kinds),
            reader.Int<SchedulerSettings>(nameof(SchedulerSettings.DynamicMaxBatchSize)),
            reader.Duration<SchedulerSettings>(nameof(SchedulerSettings.DynamicMaxQueueDelay)),
            reader.IntOrWord<SchedulerSettings>(nameof(SchedulerSettings.InstancesCount)));
        var http = new HttpSettings(
            reader.Required("flover.http.host"),
            reader.Int<HttpSettings>(nameof(HttpSettings.Port)),
            reader.Size<HttpSettings>(nameof(HttpSettings.MaxBodySize)),
            reader.Duration<HttpSettings>(nameof(HttpSettings.RequestTimeout)),
            reader.Duration<HttpSettings>(nameof(HttpSettings.DrainTimeout)),
            config.GetStringList("flover.http.api-keys").ToArray(),
            config.GetStringList("flover.http.unauthenticated-paths").ToArray(),
            reader.Duration<HttpSettings>(nameof(HttpSettings.KeepAliveInterval)),
            reader.Duration<HttpSettings>(nameof(HttpSettings.ReadyTimeout)))
        {
            MaxEventViewers = reader.Int<HttpSettings>(nameof(HttpSettings.MaxEventViewers)),
        };
        return new FloverSettings(engine, scheduler, http)
        {
            Parallel = new ParallelSettings(reader.Int<ParallelSettings>(nameof(ParallelSettings.Tensor)))
            {
                Nodes = config.GetStringList("flover.parallel.nodes").ToArray(),
                PlacementTimeout = reader.Duration<ParallelSettings>(nameof(ParallelSettings.PlacementTimeout)),
                HostCapacity = reader.Int<ParallelSettings>(nameof(ParallelSettings.HostCapacity)),
            },
            Cluster = new ClusterRoutingSettings(
                reader.Duration<ClusterRoutingSettings>(nameof(ClusterRoutingSettings.WorkerWait)),
                reader.Duration<ClusterRoutingSettings>(nameof(ClusterRoutingSettings.StatusInterval)),
                reader.Int<ClusterRoutingSettings>(nameof(ClusterRoutingSettings.MaxFailovers)))
            {
                Routing = reader.Word("flover.cluster.routing", ClusterRoutingSettings.Policies),
            },
        };
    }

    /// <summary>Model parallelism (<c>flover.parallel</c>).</summary>
    public ParallelSettings Parallel { get; init; } = new(1);

    /// <summary>Cluster mode's routing and failover (<c>flover.cluster</c>).</summary>
    public ClusterRoutingSettings Cluster { get; init; } = ClusterRoutingSettings.Default;
}

/// <summary><c>flover.cluster</c>: see hocon/reference.conf.</summary>
/// <param name="WorkerWait">How long a request waits for a worker that can take it before it ends with an error.</param>
/// <param name="StatusInterval">How often a worker samples its engine's load (sent to frontends only when it changed) and a frontend re-registers with workers that have not answered.</param>
/// <param name="MaxFailovers">Times one request may move to another worker after losing its worker.</param>
public sealed record ClusterRoutingSettings(
    [property: SettingRange("flover.cluster.worker-wait", "0s", "1h")] TimeSpan WorkerWait,
    [property: SettingRange("flover.cluster.status-interval", "10ms", "1m")] TimeSpan StatusInterval,
    [property: SettingRange("flover.cluster.max-failovers", "0", "100")] int MaxFailovers)
{
    /// <summary>The routing policy that sends a new request to the serving worker with the lowest occupancy.</summary>
    public const string LeastLoaded = "least-loaded";

    /// <summary>The routing policy that sends new requests to the serving workers in turn, whatever their load (a baseline).</summary>
    public const string RoundRobin = "round-robin";

    /// <summary>reference.conf's values, for code that builds settings without a configuration.</summary>
    public static ClusterRoutingSettings Default { get; } = new(TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(250), 3);

    /// <summary>The values <c>flover.cluster.routing</c> takes.</summary>
    public static IReadOnlyList<string> Policies { get; } = [LeastLoaded, RoundRobin];

    /// <summary>How a frontend picks the worker for a new request: <see cref="LeastLoaded"/> (the default) or <see cref="RoundRobin"/>; failover always takes the least loaded.</summary>
    public string Routing { get; init; } = LeastLoaded;
}

/// <summary><c>flover.parallel</c>: see hocon/reference.conf.</summary>
/// <param name="Tensor">Tensor-parallel shards (1 = the whole model on one accelerator).</param>
public sealed record ParallelSettings([property: SettingRange("flover.parallel.tensor", "1", "64")] int Tensor)
{
    /// <summary>Akka addresses of the nodes whose shard hosts hold ranks 1.. of this node's group (empty: every shard in this process).</summary>
    public IReadOnlyList<string> Nodes { get; init; } = [];

    /// <summary>How long each round of placing the group across nodes may take before silent nodes are passed over, and how often a group that could not be placed is tried again (30 s when built in code).</summary>
    [SettingRange("flover.parallel.placement-timeout", "1s", "10m")]
    public TimeSpan PlacementTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Ranks this node's shard host holds at once (1 when built in code); 0 starts no shard host.</summary>
    [SettingRange("flover.parallel.host-capacity", "0", "64")]
    public int HostCapacity { get; init; } = 1;
}

/// <summary><c>flover.engine</c>: see hocon/reference.conf for what each setting means and its default.</summary>
/// <param name="Threads">Kernel worker threads; 0 means all cores.</param>
/// <param name="WeightDType">auto, f32, f16 or bf16.</param>
/// <param name="KvSlots">KV-cache slots.</param>
/// <param name="MaxPositions">Positions per slot; 0 means the model's n_positions.</param>
/// <param name="PrefillTokenBudget">Prompt tokens prefilled per iteration.</param>
/// <param name="MaxWaiting">Requests that may wait for a slot.</param>
/// <param name="MemoryMode">indexed, holes or shuffle.</param>
public sealed record EngineSettings(
    [property: SettingRange("flover.engine.threads", "0", "1024")] int Threads,
    string WeightDType,
    [property: SettingRange("flover.engine.kv-slots", "1", "65536")] int KvSlots,
    [property: SettingRange("flover.engine.max-positions", "0", "1048576")] int MaxPositions,
    [property: SettingRange("flover.engine.prefill-token-budget", "1", "1048576")] int PrefillTokenBudget,
    [property: SettingRange("flover.engine.max-waiting", "0", "1000000")] int MaxWaiting,
    string MemoryMode)
{
    /// <summary>Shortest time between two iteration summaries on the event stream; zero turns them off (the default when built in code; reference.conf sets it).</summary>
    [SettingRange("flover.engine.iteration-events-interval", "0s", "1h")]
    public TimeSpan IterationEventsInterval { get; init; }

    /// <summary>Longest a step may take on the shards before it fails and silent shards are replaced (2 minutes when built in code).</summary>
    [SettingRange("flover.engine.step-timeout", "10ms", "24h")]
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Failed steps in a row a request may be part of (a fault, a timeout, a device fault) before it ends with an error while the others go on (3 when built in code).</summary>
    [SettingRange("flover.engine.max-step-failures", "1", "100")]
    public int MaxStepFailures { get; init; } = 3;

    /// <summary>
    /// Shortest time from the start of one decode step to the start of the next; zero (the default
    /// when built in code) steps as fast as the model allows. Paces the engine so people can follow
    /// fusion on the built-in page, and caps its share of a machine it shares.
    /// </summary>
    [SettingRange("flover.engine.min-step-interval", "0s", "10s")]
    public TimeSpan MinStepInterval { get; init; }

    /// <summary>
    /// Where the model runs: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>, checked and written in that
    /// spelling (lower case, plain <c>cuda</c> kept) at start-up; the engine opens it through
    /// <c>DeviceSpec.Parse</c>, whose rules these are. <c>cpu</c> when built in code.
    /// </summary>
    public string Device { get; init; } = "cpu";

    /// <summary>
    /// The precision the KV cache holds keys and values in: <c>f32</c>, or <c>f16</c>/<c>bf16</c>, which
    /// halve the pool (each value rounded to nearest when written). <c>f32</c> when built in code.
    /// </summary>
    public string KvDType { get; init; } = "f32";

    /// <summary>
    /// Which requests' tokens are chosen where the logits are: <c>all</c> (greedy, sampled and logprobs
    /// requests alike; only ids and requested logprobs cross to the host) or <c>greedy</c> (only plain
    /// arg-max requests'; the others bring their logits rows to the host sampler, for comparison).
    /// <c>all</c> when built in code.
    /// </summary>
    public string DeviceSampling { get; init; } = "all";

    /// <summary>
    /// The GEMM mode: true (<c>on</c>, the default; also when built in code) multiplies with the
    /// batch-invariant kernels, whose reduction order does not depend on the batch, so a request's
    /// tokens are bitwise the same fused or alone and a request may fail over exactly to a worker with
    /// an equal fingerprint; false (<c>off</c>) runs the matmuls on cuBLAS's tensor cores (CUDA only),
    /// faster at large batches but giving up bitwise batch invariance and with it exact failover.
    /// </summary>
    public bool BatchInvariant { get; init; } = true;

    /// <summary>The allowed values of <c>flover.engine.device-sampling</c>.</summary>
    public static IReadOnlyList<string> DeviceSamplings { get; } = ["all", "greedy"];

    /// <summary>The allowed values of <c>flover.engine.weight-dtype</c>.</summary>
    public static IReadOnlyList<string> WeightDTypes { get; } = ["auto", "f32", "f16", "bf16"];

    /// <summary>The allowed values of <c>flover.engine.kv-dtype</c>.</summary>
    public static IReadOnlyList<string> KvDTypes { get; } = ["f32", "f16", "bf16"];

    /// <summary>The allowed values of <c>flover.engine.memory-mode</c>.</summary>
    public static IReadOnlyList<string> MemoryModes { get; } = ["indexed", "holes", "shuffle"];
}

/// <summary><c>flover.scheduler</c>: see hocon/reference.conf.</summary>
/// <param name="Kind">fused, dynamic, instances or sequential.</param>
/// <param name="DynamicMaxBatchSize">Largest batch of the dynamic scheduler.</param>
/// <param name="DynamicMaxQueueDelay">Longest wait of the dynamic scheduler for a batch to fill.</param>
/// <param name="InstancesCount">Model instances of the instances scheduler; null means one per request.</param>
public sealed record SchedulerSettings(
    string Kind,
    [property: SettingRange("flover.scheduler.dynamic.max-batch-size", "1", "65536")] int DynamicMaxBatchSize,
    [property: SettingRange("flover.scheduler.dynamic.max-queue-delay", "0s", "10m")] TimeSpan DynamicMaxQueueDelay,
    [property: SettingRange("flover.scheduler.instances.count", "1", "1024", Word = SchedulerSettings.PerRequest)] int? InstancesCount)
{
    /// <summary>The word that makes <c>flover.scheduler.instances.count</c> one instance per request.</summary>
    public const string PerRequest = "per-request";

    /// <summary>The allowed values of <c>flover.scheduler.kind</c>.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["fused", "dynamic", "instances", "sequential"];
}

/// <summary><c>flover.http</c>: see hocon/reference.conf.</summary>
/// <param name="Host">Listen address.</param>
/// <param name="Port">Listen port; 0 picks a free one.</param>
/// <param name="MaxBodySize">Largest request body in bytes.</param>
/// <param name="RequestTimeout">Longest run of one request.</param>
/// <param name="DrainTimeout">Grace period for in-flight requests at shutdown.</param>
/// <param name="ApiKeys">Accepted bearer keys from the configuration (the host adds FLOVER_API_KEYS).</param>
/// <param name="UnauthenticatedPaths">Paths served without a key.</param>
/// <param name="KeepAliveInterval">Keep-alive comment interval on quiet streams.</param>
/// <param name="ReadyTimeout">How long /ready waits for the decode loop's answer.</param>
public sealed record HttpSettings(
    string Host,
    [property: SettingRange("flover.http.port", "0", "65535")] int Port,
    [property: SettingRange("flover.http.max-body-size", "1KiB", "1GiB")] long MaxBodySize,
    [property: SettingRange("flover.http.request-timeout", "1ms", "7d")] TimeSpan RequestTimeout,
    [property: SettingRange("flover.http.drain-timeout", "0s", "1h")] TimeSpan DrainTimeout,
    IReadOnlyList<string> ApiKeys,
    IReadOnlyList<string> UnauthenticatedPaths,
    [property: SettingRange("flover.http.keep-alive-interval", "10ms", "1h")] TimeSpan KeepAliveInterval,
    [property: SettingRange("flover.http.ready-timeout", "10ms", "1m")] TimeSpan ReadyTimeout)
{
    /// <summary>Viewers of <c>GET /v1/engine/events</c> served at once; one more gets 429 (8 when built in code).</summary>
    [SettingRange("flover.http.max-event-viewers", "1", "1024")]
    public int MaxEventViewers { get; init; } = 8;
}
