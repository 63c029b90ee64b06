using System.Globalization;
using System.Security;
using System.Text;

namespace Flover.Host.Bench;

/// <summary>Hand-written SVG charts (no plotting package is available): points or lines on linear axes with ticks and a legend.</summary>
internal static class SvgCharts
{
    private const double Width = 720, Height = 420, Left = 70, Right = 170, Top = 40, Bottom = 55;
    private static readonly string[] s_colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

    /// <summary>A named series of (x, y) points.</summary>
    public sealed record Series(string Name, IReadOnlyList<(double X, double Y)> Points);

    /// <summary>Per-request e2e latency against arrival time, one series per run.</summary>
    public static string Latency(IReadOnlyDictionary<string, RunMeasurement> runs) => Chart(
        "Per-request latency (first seed)",
        "arrival time (s)",
        "e2e latency (s)",
        [.. runs.Select(r => new Series(r.Key, [.. r.Value.Requests.Select(q => (q.Arrival, q.LastToken - q.Arrival))]))],
        lines: false);

    /// <summary>The fused step time t(n).</summary>
    public static string StepTime(IReadOnlyList<double> curve) => Chart(
        "Fused decode step time t(n)",
        "live sequences n",
        "step time (ms)",
        [new Series("t(n)", [.. curve.Select((t, i) => ((double)(i + 1), t * 1000))])],
        lines: true);

    public static string Chart(string title, string xLabel, string yLabel, IReadOnlyList<Series> series, bool lines)
    {
        var all = series.SelectMany(s => s.Points).ToList();
        double xMax = Nice(all.Count == 0 ? 1 : all.Max(p => p.X));
        double yMax = Nice(all.Count == 0 ? 1 : all.Max(p => p.Y));
        double plotWidth = Width - Left - Right, plotHeight = Height - Top - Bottom;
        string X(double x) => F(Left + (x / xMax * plotWidth));
        string Y(double y) => F(Top + plotHeight - (y / yMax * plotHeight));
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{F(Width)}\" height=\"{F(Height)}\" viewBox=\"0 0 {F(Width)} {F(Height)}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(Width / 2)}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{Escape(title)}</text>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(Left)}\" y1=\"{Y(0)}\" x2=\"{X(xMax)}\" y2=\"{Y(0)}\" stroke=\"black\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(Left)}\" y1=\"{Y(0)}\" x2=\"{F(Left)}\" y2=\"{Y(yMax)}\" stroke=\"black\"/>\n");
        for (int i = 0; i <= 5; i++)
        {
            double xv = xMax * i / 5, yv = yMax * i / 5;
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{X(xv)}\" y1=\"{Y(0)}\" x2=\"{X(xv)}\" y2=\"{F(Top + plotHeight + 5)}\" stroke=\"black\"/><text x=\"{X(xv)}\" y=\"{F(Top + plotHeight + 19)}\" text-anchor=\"middle\">{Tick(xv)}</text>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(Left - 5)}\" y1=\"{Y(yv)}\" x2=\"{F(Left)}\" y2=\"{Y(yv)}\" stroke=\"black\"/><text x=\"{F(Left - 8)}\" y=\"{Y(yv)}\" text-anchor=\"end\" dominant-baseline=\"middle\">{Tick(yv)}</text>\n");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(Left + (plotWidth / 2))}\" y=\"{F(Height - 12)}\" text-anchor=\"middle\">{Escape(xLabel)}</text>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"18\" y=\"{F(Top + (plotHeight / 2))}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {F(Top + (plotHeight / 2))})\">{Escape(yLabel)}</text>\n");
        for (int s = 0; s < series.Count; s++)
        {
            string color = s_colors[s % s_colors.Length];
            Series line = series[s];
            if (lines && line.Points.Count > 1)
            {
                svg.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{string.Join(' ', line.Points.Select(p => $"{X(p.X)},{Y(p.Y)}"))}\"/>\n");
            }

            foreach ((double x, double y) in line.Points)
            {
                svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{X(x)}\" cy=\"{Y(y)}\" r=\"3\" fill=\"{color}\"/>\n");
            }

            double legendY = Top + 10 + (s * 18);
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{F(Width - Right + 15)}\" y=\"{F(legendY - 6)}\" width=\"12\" height=\"12\" fill=\"{color}\"/><text x=\"{F(Width - Right + 33)}\" y=\"{F(legendY)}\" dominant-baseline=\"middle\">{Escape(line.Name)}</text>\n");
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>The next 1, 2 or 5 × 10^k at or above <paramref name="value"/>, so ticks are round.</summary>
    internal static double Nice(double value)
    {
        if (!(value > 0) || !double.IsFinite(value))
        {
            return 1;
        }

        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (double step in (double[])[1, 2, 5, 10])
        {
            if (step * magnitude >= value)
            {
                return step * magnitude;
            }
        }

        return 10 * magnitude;
    }

    private static string F(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Tick(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Escape(string text) => SecurityElement.Escape(text);
}
