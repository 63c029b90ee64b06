using System.Diagnostics;
using System.Diagnostics.Metrics;
using Prometheus;

namespace Flover.Host.Http;

/// <summary>
/// Exports the instruments of one engine's <see cref="Meter"/> (<c>EngineMetrics</c>) as
/// prometheus-net's own collectors on a server's registry, under the instruments' own names and
/// descriptions: a counter as a counter, an observable gauge as a gauge read at each scrape, a
/// histogram as a histogram with the buckets of its advice. prometheus-net's MeterAdapter would
/// prefix the meter's name and export counters as gauges, which is why Flover's meter comes
/// through here and only foreign meters through the adapter (<see cref="MetricsEndpoint"/>).
/// </summary>
internal sealed class EngineMeterExport : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly MetricFactory _factory;
    private readonly Meter _meter;
    private volatile bool _disposed;

    /// <param name="meter">The engine's meter: the only one exported (a MeterListener sees every meter of the process, and tests run several engines in one).</param>
    /// <param name="registry">The server's registry the collectors are created on.</param>
    /// <exception cref="NotSupportedException">The meter has an instrument of a kind this export does not map.</exception>
    public EngineMeterExport(Meter meter, CollectorRegistry registry)
    {
        _meter = meter;
        _factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _listener.InstrumentPublished = Publish;
        _listener.SetMeasurementEventCallback<int>((_, value, tags, state) => Record(state, value, tags));
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => Record(state, value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => Record(state, value, tags));
        try
        {
            _listener.Start();
        }
        catch (NotSupportedException)
        {
            _listener.Dispose();
            throw;
        }

        // Observable gauges report only when asked: ask just before each scrape, so a gauge is the
        // value at scrape time. Concurrent scrapes may each ask; each Set is a current value, so
        // the last one winning is right. A registry cannot drop a callback, hence the flag.
        registry.AddBeforeCollectCallback(() =>
        {
            if (!_disposed)
            {
                _listener.RecordObservableInstruments();
            }
        });
    }

    /// <summary>The bucket upper bounds an instrument's advice names, or null without advice.</summary>
    public static double[]? AdvisedBuckets(Instrument instrument) => instrument switch
    {
        Instrument<double> { Advice.HistogramBucketBoundaries: { } bounds } => [.. bounds],
        Instrument<long> { Advice.HistogramBucketBoundaries: { } bounds } => [.. bounds.Select(b => (double)b)],
        Instrument<int> { Advice.HistogramBucketBoundaries: { } bounds } => [.. bounds.Select(b => (double)b)],
        _ => null,
    };

    private void Publish(Instrument instrument, MeterListener listener)
    {
        if (instrument.Meter != _meter)
        {
            return;
        }

        string help = instrument.Description ?? instrument.Name;
        ICollector collector = instrument switch
        {
            Counter<int> or Counter<long> or Counter<double> => _factory.CreateCounter(instrument.Name, help),
            ObservableGauge<int> or ObservableGauge<long> or ObservableGauge<double> => _factory.CreateGauge(instrument.Name, help),
            Histogram<int> or Histogram<long> or Histogram<double> => _factory.CreateHistogram(instrument.Name, help, new HistogramConfiguration { Buckets = AdvisedBuckets(instrument) }),
            _ => throw new NotSupportedException($"{instrument.Name}: a {instrument.GetType().Name} has no mapping to a Prometheus metric; add one to {nameof(EngineMeterExport)}."),
        };
        listener.EnableMeasurementEvents(instrument, collector);
    }

    /// <summary>Forwards one measurement; runs on the thread that measured (the decode loop's), so it never throws.</summary>
    private static void Record(object? collector, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        // The engine's instruments carry no tags: the labelled metrics are the host's own (ServeMetrics).
        Debug.Assert(tags.IsEmpty, "EngineMeterExport exports unlabelled instruments only.");
        switch (collector)
        {
            case Counter counter when value > 0:
                // prometheus-net refuses a negative increment with an exception, which would reach the decode loop.
                counter.Inc(value);
                break;
            case Gauge gauge:
                gauge.Set(value);
                break;
            case Histogram histogram:
                histogram.Observe(value);
                break;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _disposed = true;
        _listener.Dispose();
    }
}
