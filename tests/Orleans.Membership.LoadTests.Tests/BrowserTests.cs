using System.Diagnostics;
using System.IO.Compression;
using System.Text.RegularExpressions;
using Orleans.Membership.LoadTests.Harness;

namespace Orleans.Membership.LoadTests.Tests;

/// <summary>
/// Headless Chromium: MEMBERSHIP_TEST_CHROMIUM, else chromium on the PATH (scripts/chromium-up.sh installs
/// it; scripts/test.sh runs that). Without one the browser tests are skipped, saying why, except under
/// CI=true, where they fail.
/// </summary>
internal static class Chromium
{
    public static readonly string? Path = Find();

    public const string Missing = "no Chromium: run `bash scripts/chromium-up.sh` (installs Debian's chromium) or set MEMBERSHIP_TEST_CHROMIUM to a Chromium binary";

    public static bool Required => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable("MEMBERSHIP_TEST_CHROMIUM") is { Length: > 0 } set) return set;
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return new[] { "chromium", "chromium-browser" }.SelectMany(name => dirs.Select(d => System.IO.Path.Combine(d, name))).FirstOrDefault(File.Exists);
    }

    /// <summary>Runs Chromium headless on <paramref name="url"/> with the given extra arguments; returns its standard output.</summary>
    public static async Task<string> Run(string url, params string[] arguments)
    {
        var profile = Directory.CreateTempSubdirectory("lt-chromium-").FullName;
        try
        {
            var start = new ProcessStartInfo(Path ?? throw new InvalidOperationException(Missing))
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--hide-scrollbars", $"--user-data-dir={profile}" }.Concat(arguments).Append(url))
            {
                start.ArgumentList.Add(a);
            }
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"chromium did not finish within 90 s: {await stderr}");
            }
            Assert.True(process.ExitCode == 0, $"chromium exited {process.ExitCode}: {await stderr}");
            return await stdout;
        }
        finally
        {
            try { Directory.Delete(profile, recursive: true); } catch (IOException) { }
        }
    }
}

/// <summary>A fact that needs Chromium: skipped with the reason when there is none, unless CI=true (then the test fails).</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (Chromium.Path is null && !Chromium.Required) Skip = Chromium.Missing;
    }
}

/// <summary>Chromium takes the machine's cores for a few seconds: it runs alone, not beside the timing-sensitive harness tests.</summary>
[CollectionDefinition(nameof(BrowserTests), DisableParallelization = true)]
public sealed class BrowserCollection;

[Collection(nameof(BrowserTests))]
public sealed class BrowserTests
{
    [ChromiumFact]
    public async Task Chromium_renders_the_report_with_its_banner_and_every_chart()
    {
        Assert.True(Chromium.Path is not null, Chromium.Missing);
        var folder = Directory.CreateTempSubdirectory("lt-browser-").FullName;
        Reports.WriteAll([await ReportTests.TwoStepRun(maxP99Ms: 0.0001)], folder, new RunInfo("browser test"));
        var url = new Uri(Path.Combine(folder, "report.html")).AbsoluteUri;

        var dom = await Chromium.Run(url, "--dump-dom");

        Assert.Matches("<div id=\"verdict\" class=\"verdict fail\">FAILED: 1 of 2 thresholds failed<br>[0-9]+ of 400 requests failed", dom);
        // Each chart parsed as SVG with a drawn line or bars, ticks and its axis labels.
        var charts = Regex.Matches(dom, "<svg class=\"chart\" data-chart=\"([a-z-]+)\".*?</svg>", RegexOptions.Singleline);
        Assert.Equal(["rate", "latency-per-second", "slowest-per-second", "errors-per-second", "latency-by-percentile"], charts.Select(m => m.Groups[1].Value));
        Assert.All(charts, m =>
        {
            Assert.Matches("<(polyline|rect) class=\"series\"", m.Value);
            Assert.Matches("class=\"tick\"", m.Value);
            Assert.Matches("class=\"label\"", m.Value);
        });
        Assert.Contains(">99.9%<", dom);

        // And drawn: the screenshot's top holds the red banner, its charts the lines' colours.
        var png = Path.Combine(folder, "report.png");
        await Chromium.Run(url, $"--screenshot={png}", "--window-size=1200,2400");
        var image = Png.Read(png);
        Assert.Equal((1200, 2400), (image.Width, image.Height));
        Assert.True(image.Count(0, 0, image.Width, 300, 0xb4, 0x23, 0x18) > 1000, "the red FAILED banner is drawn near the top");
        Assert.True(image.Count(0, 0, image.Width, image.Height, 0x1f, 0x77, 0xb4) > 200, "the first series' colour is drawn");
    }

    [ChromiumFact]
    public async Task Chromium_renders_a_comparison_with_its_verdict_and_charts()
    {
        Assert.True(Chromium.Path is not null, Chromium.Missing);
        var a = Directory.CreateTempSubdirectory("lt-browser-a-").FullName;
        var b = Directory.CreateTempSubdirectory("lt-browser-b-").FullName;
        Reports.WriteAll([await ReportTests.TwoStepRun()], a, new RunInfo("before"));
        Reports.WriteAll([await ReportTests.TwoStepRun()], b, new RunInfo("after"));
        var folder = Directory.CreateTempSubdirectory("lt-browser-compare-").FullName;
        Assert.Equal(0, await Cli.RunAsync(["compare", a, b, "--out", folder], new StringWriter(), new StringWriter()));

        var dom = await Chromium.Run(new Uri(Path.Combine(folder, "compare.html")).AbsoluteUri, "--dump-dom");

        Assert.Matches("<div id=\"verdict\" class=\"verdict (pass|fail)\">B against A: ", dom);
        Assert.Equal(3, Regex.Matches(dom, "<svg class=\"chart\" data-chart=\"compare-").Count);
        Assert.Contains("<th>B/A</th>", dom);
    }
}

/// <summary>Just enough PNG to check a screenshot's pixels: 8-bit RGB or RGBA, not interlaced.</summary>
internal sealed record Png(int Width, int Height, int Channels, byte[] Pixels)
{
    public static Png Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.AsSpan(0, 8).SequenceEqual(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 }), "a PNG file");
        int width = 0, height = 0, channels = 0;
        using var idat = new MemoryStream();
        for (var at = 8; at < bytes.Length;)
        {
            var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at));
            var type = System.Text.Encoding.ASCII.GetString(bytes, at + 4, 4);
            var data = bytes.AsSpan(at + 8, length);
            if (type == "IHDR")
            {
                width = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(data);
                height = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                Assert.Equal(8, data[8]);
                channels = data[9] switch { 2 => 3, 6 => 4, _ => throw new NotSupportedException($"PNG colour type {data[9]}") };
                Assert.Equal(0, data[12]);
            }
            else if (type == "IDAT") idat.Write(data);
            at += 12 + length;
        }
        idat.Position = 0;
        using var inflated = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionMode.Decompress)) z.CopyTo(inflated);
        var raw = inflated.ToArray();
        var stride = width * channels;
        var pixels = new byte[height * stride];
        for (var y = 0; y < height; y++)
        {
            var filter = raw[y * (stride + 1)];
            var line = raw.AsSpan(y * (stride + 1) + 1, stride);
            for (var x = 0; x < stride; x++)
            {
                int left = x >= channels ? pixels[y * stride + x - channels] : 0;
                int up = y > 0 ? pixels[(y - 1) * stride + x] : 0;
                int upLeft = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
                pixels[y * stride + x] = (byte)(line[x] + filter switch
                {
                    0 => 0,
                    1 => left,
                    2 => up,
                    3 => (left + up) / 2,
                    4 => Paeth(left, up, upLeft),
                    _ => throw new NotSupportedException($"PNG filter {filter}"),
                });
            }
        }
        return new Png(width, height, channels, pixels);
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /// <summary>Pixels in the rectangle within a small distance of the colour.</summary>
    public int Count(int x0, int y0, int x1, int y1, byte r, byte g, byte b)
    {
        var n = 0;
        for (var y = y0; y < Math.Min(y1, Height); y++)
        {
            for (var x = x0; x < Math.Min(x1, Width); x++)
            {
                var i = (y * Width + x) * Channels;
                if (Math.Abs(Pixels[i] - r) + Math.Abs(Pixels[i + 1] - g) + Math.Abs(Pixels[i + 2] - b) <= 12) n++;
            }
        }
        return n;
    }
}
