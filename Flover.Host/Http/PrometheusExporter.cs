using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Flover.Host.Http;

/// <summary>
/// Exports the instruments of one <see cref="Meter"/> in the Prometheus text format (version
/// 0.0.4), with a <see cref="MeterListener"/>: counters are summed and histograms bucketed as
/// measurements arrive (per label set); observable gauges are read at each scrape. Instruments
/// are exported under their own names, which already follow Prometheus conventions
/// (<c>_total</c> on counters, a unit suffix such as <c>_seconds</c>).
/// </summary>
internal sealed partial class PrometheusExporter : IDisposable
{
    /// <summary>The content type of the text format.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly MeterListener _listener = new();
    private readonly Lock _scrape = new();
    // Instruments in publication order; the listener adds while a scrape may read.
    private readonly List<InstrumentState> _instruments = [];

    public PrometheusExporter(Meter meter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            // MeterListener sees every meter in the process; tests run several engines at once.
            if (instrument.Meter != meter)
            {
                return;
            }

            var state = InstrumentState.For(instrument);
            lock (_instruments)
            {
                _instruments.Add(state);
            }

            listener.EnableMeasurementEvents(instrument, state);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>((_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.Start();
    }

    /// <summary>Every instrument's current values, in the text format.</summary>
    public string Scrape()
    {
        var text = new StringBuilder();
        lock (_scrape)
        {
            // Observable gauges report through the measurement callbacks, now.
            _listener.RecordObservableInstruments();
            InstrumentState[] instruments;
            lock (_instruments)
            {
                instruments = [.. _instruments];
            }

            foreach (InstrumentState state in instruments.OrderBy(s => s.Name, StringComparer.Ordinal))
            {
                state.Write(text);
            }
        }

        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>A label set as Prometheus writes it (<c>{a="x",b="y"}</c>, sorted by name), or empty.</summary>
    internal static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
        {
            return string.Empty;
        }

        var pairs = new List<KeyValuePair<string, object?>>(tags.ToArray());
        pairs.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return "{" + string.Join(',', pairs.Select(p => $"{p.Key}=\"{Escape(Convert.ToString(p.Value, CultureInfo.InvariantCulture) ?? string.Empty)}\"")) + "}";
    }

    /// <summary>A label value with backslash, quote and newline escaped.</summary>
    internal static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    /// <summary>A sample value: shortest round-trip form, and +Inf as Prometheus spells it.</summary>
    internal static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : value.ToString("R", CultureInfo.InvariantCulture);
}
