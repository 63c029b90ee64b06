using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Http;
using Prometheus;

namespace Flover.Host.Http;

/// <summary>
/// A server's <c>GET /metrics</c> (Prometheus text format 0.0.4, written by prometheus-net) over a
/// registry of its own: never prometheus-net's static default registry, because tests run several
/// servers in one process and each must show only its own engine and requests (which also means
/// no process_* or dotnet_* default metrics). The registry holds Flover's metrics
/// (<see cref="ServeMetrics"/>, and the engine's meter through <see cref="EngineMeterExport"/>)
/// and, through prometheus-net's MeterAdapter, this server's ASP.NET Core and Kestrel meters and
/// the runtime's.
/// </summary>
internal sealed class MetricsEndpoint : IDisposable
{
    /// <summary>The runtime's meter (GC, JIT, thread pool, exceptions), one per process.</summary>
    public const string RuntimeMeter = "System.Runtime";

    /// <summary>The prefix of ASP.NET Core's meters (hosting, routing, Kestrel, ...).</summary>
    public const string AspNetCoreMeters = "Microsoft.AspNetCore";

    private readonly CollectorRegistry _registry;
    private readonly EngineMeterExport _engine;
    private readonly IDisposable _adapter;

    /// <param name="registry">The server's registry (<see cref="ServeMetrics"/> is already on it).</param>
    /// <param name="engine">The engine's meter.</param>
    /// <param name="server">The application's meter factory: ASP.NET Core creates its meters through it, so they are this server's and no other's.</param>
    public MetricsEndpoint(CollectorRegistry registry, Meter engine, IMeterFactory server)
    {
        _registry = registry;
        _engine = new EngineMeterExport(engine, registry);
        _adapter = MeterAdapter.StartListening(new MeterAdapterOptions
        {
            Registry = registry,
            // The options' factory defaults to the static registry's, and a factory wins over Registry.
            MetricFactory = Prometheus.Metrics.WithCustomRegistry(registry),
            InstrumentFilterPredicate = instrument => IsAdapted(instrument.Meter, server),
            ResolveHistogramBuckets = instrument => EngineMeterExport.AdvisedBuckets(instrument) ?? MeterAdapterOptions.DefaultHistogramBuckets,
        });
    }

    /// <summary>
    /// Whether the adapter exports <paramref name="meter"/>: the runtime's, and ASP.NET Core's of
    /// this server (every server's meters carry the same names; the factory that made them tells
    /// them apart). Flover's meter is not one of them: it is exported natively, never twice.
    /// </summary>
    public static bool IsAdapted(Meter meter, IMeterFactory server) =>
        meter.Name == RuntimeMeter
        || (meter.Name.StartsWith(AspNetCoreMeters, StringComparison.Ordinal) && ReferenceEquals(meter.Scope, server));

    /// <summary>Writes every metric of the registry in the text format.</summary>
    public Task WriteAsync(HttpContext http)
    {
        http.Response.ContentType = PrometheusConstants.TextContentTypeWithVersionAndEncoding;
        return _registry.CollectAndExportAsTextAsync(http.Response.Body, http.RequestAborted);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _adapter.Dispose();
        _engine.Dispose();
    }
}
