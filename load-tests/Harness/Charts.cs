using System.Globalization;
using System.Net;
using System.Text;

namespace Orleans.Membership.LoadTests.Harness;

/// <summary>A chart's horizontal axis: linear (seconds), or percentiles spaced as HdrHistogram plots them.</summary>
public enum AxisKind { Linear, Percentile }

/// <summary>An axis: its label with the unit, and the range it covers (a percentile axis: decades of 1/(1-p)).</summary>
public sealed record Axis(string Label, double Min, double Max, AxisKind Kind = AxisKind.Linear);

/// <summary>A line or bars; a NaN y leaves a gap.</summary>
public sealed record Series(string Name, string Color, IReadOnlyList<(double X, double Y)> Points, bool Bars = false, bool Dashed = false);

/// <summary>
/// Inline SVG charts drawn at report time: axes with ticks and units, a legend, and hover titles on the
/// points of short series. No script and nothing fetched, so a report opens anywhere, offline.
/// </summary>
public static class Charts
{
    private const int Width = 640, Height = 300, Left = 64, Right = 36, Top = 46, Bottom = 46;
    private const int PlotWidth = Width - Left - Right, PlotHeight = Height - Top - Bottom;
    private const int MaxPointsWithTitles = 120;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Colours for the series of one chart, in order; readable on white and apart for common colour blindness.</summary>
    public static readonly string[] Palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f"];
    public const string Red = "#d62728";

    /// <summary>A chart with the given series; the y axis starts at 0 and ends on a tick above the highest point.</summary>
    public static string Draw(string id, string title, Axis x, string yLabel, IReadOnlyList<Series> series, string? whenAllZero = null)
    {
        var finite = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.Y)).Select(p => p.Y).ToList();
        var yMax = finite.Count == 0 ? 0 : finite.Max();
        var yStep = NiceStep(yMax <= 0 ? 1 : yMax / 5);
        var yTop = Math.Max(yStep, Math.Ceiling(yMax / yStep - 1e-9) * yStep);
        var xSpan = Math.Max(x.Max - x.Min, 1e-9);
        double X(double v) => Left + PlotWidth * (Math.Clamp(v, x.Min, x.Max) - x.Min) / xSpan;
        double Y(double v) => Top + PlotHeight * (1 - v / yTop);

        var sb = new StringBuilder();
        sb.Append(Inv, $"<svg class=\"chart\" data-chart=\"{Attr(id)}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"{Attr(title)}\">");
        sb.Append(Inv, $"<text class=\"title\" x=\"{Left}\" y=\"18\">{Text(title)}</text>");

        // Grid and y ticks.
        for (var v = 0.0; v <= yTop + yStep / 2; v += yStep)
        {
            sb.Append(Inv, $"<line class=\"grid\" x1=\"{Left}\" x2=\"{Left + PlotWidth}\" y1=\"{Y(v):0.#}\" y2=\"{Y(v):0.#}\"/>");
            sb.Append(Inv, $"<text class=\"tick\" x=\"{Left - 6}\" y=\"{Y(v) + 4:0.#}\" text-anchor=\"end\">{Tick(v, yStep)}</text>");
        }
        // X ticks.
        foreach (var (value, label) in XTicks(x))
        {
            sb.Append(Inv, $"<line class=\"axis\" x1=\"{X(value):0.#}\" x2=\"{X(value):0.#}\" y1=\"{Top + PlotHeight}\" y2=\"{Top + PlotHeight + 5}\"/>");
            sb.Append(Inv, $"<text class=\"tick\" x=\"{X(value):0.#}\" y=\"{Top + PlotHeight + 18}\" text-anchor=\"middle\">{Text(label)}</text>");
        }
        sb.Append(Inv, $"<line class=\"axis\" x1=\"{Left}\" x2=\"{Left + PlotWidth}\" y1=\"{Top + PlotHeight}\" y2=\"{Top + PlotHeight}\"/>");
        sb.Append(Inv, $"<line class=\"axis\" x1=\"{Left}\" x2=\"{Left}\" y1=\"{Top}\" y2=\"{Top + PlotHeight}\"/>");
        sb.Append(Inv, $"<text class=\"label\" x=\"{Left + PlotWidth / 2}\" y=\"{Height - 8}\" text-anchor=\"middle\">{Text(x.Label)}</text>");
        sb.Append(Inv, $"<text class=\"label\" transform=\"translate(14 {Top + PlotHeight / 2}) rotate(-90)\" text-anchor=\"middle\">{Text(yLabel)}</text>");

        // Legend, left to right under the title.
        var lx = (double)Left;
        foreach (var s in series)
        {
            sb.Append(Inv, $"<rect x=\"{lx:0.#}\" y=\"27\" width=\"12\" height=\"8\" fill=\"{s.Color}\"/>");
            sb.Append(Inv, $"<text class=\"legend\" x=\"{lx + 16:0.#}\" y=\"35\">{Text(s.Name)}</text>");
            lx += 28 + 6.5 * s.Name.Length;
        }

        var empty = finite.Count == 0 ? "nothing recorded" : yMax == 0 && finite.Min() == 0 ? whenAllZero : null;
        if (empty is not null)
        {
            sb.Append(Inv, $"<text class=\"empty\" x=\"{Left + PlotWidth / 2}\" y=\"{Top + PlotHeight / 2}\" text-anchor=\"middle\">{Text(empty)}</text>");
        }
        foreach (var s in series) sb.Append(s.Bars ? DrawBars(s, x, X, Y) : DrawLine(s, X, Y));
        return sb.Append("</svg>").ToString();
    }

    private static string DrawLine(Series s, Func<double, double> x, Func<double, double> y)
    {
        var sb = new StringBuilder();
        var segment = new List<string>();
        void Flush()
        {
            if (segment.Count > 0)
            {
                sb.Append(Inv, $"<polyline class=\"series\" data-series=\"{Attr(s.Name)}\" fill=\"none\" stroke=\"{s.Color}\" stroke-width=\"2\"{(s.Dashed ? " stroke-dasharray=\"6 4\"" : "")} points=\"{string.Join(' ', segment)}\"><title>{Text(s.Name)}</title></polyline>");
            }
            segment.Clear();
        }
        foreach (var (px, py) in s.Points)
        {
            if (!double.IsFinite(py)) { Flush(); continue; }
            segment.Add(string.Create(Inv, $"{x(px):0.#},{y(py):0.#}"));
        }
        Flush();
        if (s.Points.Count <= MaxPointsWithTitles)
        {
            foreach (var (px, py) in s.Points.Where(p => double.IsFinite(p.Y)))
            {
                sb.Append(Inv, $"<circle cx=\"{x(px):0.#}\" cy=\"{y(py):0.#}\" r=\"2.5\" fill=\"{s.Color}\"><title>{Text(s.Name)}: {Formats.Number(py)} at {Formats.Number(px)}</title></circle>");
            }
        }
        return sb.ToString();
    }

    private static string DrawBars(Series s, Axis axis, Func<double, double> x, Func<double, double> y)
    {
        var sb = new StringBuilder();
        var width = Math.Max(1, 0.8 * PlotWidth / Math.Max(1, axis.Max - axis.Min));
        foreach (var (px, py) in s.Points.Where(p => double.IsFinite(p.Y) && p.Y > 0))
        {
            sb.Append(Inv, $"<rect class=\"series\" data-series=\"{Attr(s.Name)}\" x=\"{x(px) - width / 2:0.#}\" y=\"{y(py):0.#}\" width=\"{width:0.#}\" height=\"{y(0) - y(py):0.#}\" fill=\"{s.Color}\"><title>{Text(s.Name)}: {Formats.Number(py)} at {Formats.Number(px)}</title></rect>");
        }
        return sb.ToString();
    }

    /// <summary>Where a percentile sits on a percentile axis: decades of 1/(1-p), so 90% is 1, 99% is 2, 99.9% is 3.</summary>
    public static double PercentileX(double percentile, double lastDecade)
        => percentile >= 100 ? lastDecade : Math.Min(lastDecade, Math.Log10(1 / (1 - percentile / 100)));

    /// <summary>The decades a percentile axis needs for <paramref name="count"/> samples: where the count runs out (at least 2).</summary>
    public static double PercentileDecades(long count) => Math.Clamp(Math.Ceiling(Math.Log10(Math.Max(count, 1)) - 1e-9), 2, 7);

    private static IEnumerable<(double Value, string Label)> XTicks(Axis x)
    {
        if (x.Kind == AxisKind.Percentile)
        {
            for (var d = 0; d <= (int)Math.Round(x.Max); d++)
            {
                yield return (d, d == 0 ? "0%" : (100 - 100 * Math.Pow(10, -d)).ToString("0.#####", Inv) + "%");
            }
            yield break;
        }
        var step = NiceStep(Math.Max((x.Max - x.Min) / 8, 1e-9));
        if (x.Max - x.Min >= 1) step = Math.Max(1, step);
        for (var v = Math.Ceiling(x.Min / step - 1e-9) * step; v <= x.Max + step / 1000; v += step) yield return (v, Tick(v, step));
    }

    /// <summary>1, 2, 2.5 or 5 times a power of ten, the nearest at or above <paramref name="rough"/>.</summary>
    public static double NiceStep(double rough)
    {
        var power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var fraction = rough / power;
        var nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10;
        return nice * power;
    }

    private static string Tick(double v, double step)
    {
        if (Math.Abs(v) < step / 1e6) v = 0; // never "-0"
        var decimals = Math.Max(0, (int)Math.Ceiling(-Math.Log10(step) - 1e-9));
        if (step * Math.Pow(10, decimals) % 1 > 1e-6) decimals++;
        return v.ToString("#,0" + (decimals > 0 ? "." + new string('0', decimals) : ""), Inv);
    }

    private static string Text(string s) => WebUtility.HtmlEncode(s);
    private static string Attr(string s) => WebUtility.HtmlEncode(s);
}
