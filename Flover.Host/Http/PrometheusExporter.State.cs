using System.Diagnostics.Metrics;
using System.Text;

namespace Flover.Host.Http;

internal sealed partial class PrometheusExporter
{
    /// <summary>What one instrument has recorded, per label set; measurements arrive on any thread.</summary>
    private abstract class InstrumentState(Instrument instrument, string type)
    {
        protected Lock Gate { get; } = new();

        public string Name { get; } = instrument.Name;

        public static InstrumentState For(Instrument instrument) => instrument switch
        {
            Histogram<double> histogram => new HistogramState(histogram, histogram.Advice?.HistogramBucketBoundaries ?? [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
            ObservableGauge<int> or ObservableGauge<long> or ObservableGauge<double> => new ValueState(instrument, "gauge", sum: false),
            _ => new ValueState(instrument, "counter", sum: true),
        };

        public abstract void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags);

        public void Write(StringBuilder text)
        {
            text.Append("# HELP ").Append(Name).Append(' ').Append((instrument.Description ?? Name).Replace("\n", " ", StringComparison.Ordinal)).Append('\n');
            text.Append("# TYPE ").Append(Name).Append(' ').Append(type).Append('\n');
            lock (Gate)
            {
                WriteSamples(text);
            }
        }

        protected abstract void WriteSamples(StringBuilder text);
    }

    /// <summary>A counter (summed) or a gauge (last value).</summary>
    private sealed class ValueState(Instrument instrument, string type, bool sum) : InstrumentState(instrument, type)
    {
        private readonly SortedDictionary<string, double> _values = new(StringComparer.Ordinal);

        public override void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string labels = Labels(tags);
            lock (Gate)
            {
                _values[labels] = sum && _values.TryGetValue(labels, out double total) ? total + value : value;
            }
        }

        protected override void WriteSamples(StringBuilder text)
        {
            if (_values.Count == 0 && sum)
            {
                // A counter that never counted is 0, not absent (rate() needs the first sample).
                text.Append(Name).Append(" 0\n");
            }

            foreach ((string labels, double value) in _values)
            {
                text.Append(Name).Append(labels).Append(' ').Append(Number(value)).Append('\n');
            }
        }
    }

    /// <summary>A histogram: cumulative bucket counts, sum and count per label set.</summary>
    private sealed class HistogramState(Histogram<double> instrument, IReadOnlyList<double> bounds) : InstrumentState(instrument, "histogram")
    {
        private readonly SortedDictionary<string, Series> _series = new(StringComparer.Ordinal);

        public override void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string labels = Labels(tags);
            lock (Gate)
            {
                if (!_series.TryGetValue(labels, out Series? series))
                {
                    series = new Series(new long[bounds.Count + 1]);
                    _series.Add(labels, series);
                }

                int bucket = 0;
                while (bucket < bounds.Count && value > bounds[bucket])
                {
                    bucket++;
                }

                series.Buckets[bucket]++;
                series.Sum += value;
                series.Count++;
            }
        }

        protected override void WriteSamples(StringBuilder text)
        {
            foreach ((string labels, Series series) in _series)
            {
                // "le" joins the instrument's own labels inside one pair of braces.
                string prefix = labels.Length == 0 ? "{" : labels[..^1] + ",";
                long cumulative = 0;
                for (int i = 0; i <= bounds.Count; i++)
                {
                    cumulative += series.Buckets[i];
                    string bound = i < bounds.Count ? Number(bounds[i]) : "+Inf";
                    text.Append(Name).Append("_bucket").Append(prefix).Append("le=\"").Append(bound).Append("\"} ").Append(cumulative).Append('\n');
                }

                text.Append(Name).Append("_sum").Append(labels).Append(' ').Append(Number(series.Sum)).Append('\n');
                text.Append(Name).Append("_count").Append(labels).Append(' ').Append(series.Count).Append('\n');
            }
        }

        private sealed class Series(long[] buckets)
        {
            public long[] Buckets { get; } = buckets;

            public double Sum { get; set; }

            public long Count { get; set; }
        }
    }
}
