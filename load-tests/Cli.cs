using System.Globalization;
using Orleans.Membership.LoadTests.Harness;
using Orleans.Membership.LoadTests.Http;
using Orleans.Membership.LoadTests.Scenarios;

namespace Orleans.Membership.LoadTests;

/// <summary>The command line: parse, validate (naming the flag), run, report, exit code.</summary>
public static class Cli
{
    public const int Unreachable = 1;
    public const int ThresholdsFailed = 2;
    public const int InvalidRun = 3;
    public const int BadArguments = 64;

    public const string Usage = """
        Orleans.Membership load tests

          dotnet run -c Release --project load-tests -- --scenario NAME --target URL [options]
          dotnet run -c Release --project load-tests -- compare A B [--out DIR]
          dotnet run -c Release --project load-tests -- index DIR [--title TEXT]

        scenarios:
          baseline   GET /healthz: this machine's plain-HTTP ceiling
          checkout   benefit checks over --members members, Zipf-skewed popularity
          festival   event batches (--batch events each); reports events/s
          mixed      festival and checkout at once (--rate is checkout's, --festival-rate festival's)
          seed       creates --members members with history (run it before checkout)
          stream     order.paid events published to NATS JetStream (NATS_URL, default
                     nats://127.0.0.1:4222), against a node run with Membership:Streams:Provider=nats

        options:
          --scenario NAME       one of the scenarios above (required)
          --target URL          the node (default http://127.0.0.1:5080)
          --rate N              open model: N iterations per second; without it, a closed model at full speed
          --copies N            closed model: concurrent workers (default 64; seed uses at most 8)
          --duration 30s        how long the load runs (ms, s, m, h; default 30s, at most 2h)
          --warmup 3s           unmeasured load before the run (default 3s)
          --members N           member population m{K}..m{K+N-1} (default 10000)
          --first-member K      the population's first member number (default 0): a second population
                                beside the first, e.g. to warm a node on other members
          --batch N             events per batch, 1-1000 (default 500)
          --festival-rate N     mixed: festival batches per second (default 2)
          --program ID          program id (default default)
          --max-p99 MS          threshold: p99 latency of the OK requests at most MS (mixed: checkout's)
          --out DIR             where reports go (default load-tests/results/<scenario>-<time>)
          --api-key K           sent as X-Api-Key
          --connections N       HTTP connections the generator may open (default 64; mixed: as many
                                for festival and for checkout each); requests beyond them queue in
                                the generator and their wait counts as latency
          --client KIND         lean (default for http://: a small HTTP/1.1 client that leaves the
                                CPU to the node) or httpclient (.NET's HttpClient; https needs it)
          --help, -h            this text

        A checkout or mixed run first asks the node for the population's last member and warns when it
        was never seeded. Each run writes report.json, report.md, report.html, report.csv and
        <scenario>.hgrm to --out.

        compare A B           B against A, each a run's folder or its report.json: every figure side by
                              side, B/A, and whether the difference exceeds the runs' own per-second noise;
                              writes compare.md and compare.html to --out (default
                              load-tests/results/compare-<time>)
        index DIR             index.html and index.md for the runs in DIR's subfolders (benchmark.sh)

        exit codes: 0 ok; 1 the node could not be reached or does not serve the program (compare, index:
        a report could not be read); 2 a threshold failed; 3 the generator fell behind (run invalid);
        64 bad arguments
        """;

    /// <summary>Every option a run accepts (each takes a value).</summary>
    public static readonly string[] Scenarios = ["baseline", "checkout", "festival", "mixed", "seed", "stream"];

    public static readonly string[] Options = ["--scenario", "--target", "--rate", "--copies", "--duration", "--warmup", "--members", "--first-member", "--batch", "--festival-rate", "--program", "--max-p99", "--out", "--api-key", "--connections", "--client"];

    public sealed record Arguments(string Scenario, LoadSettings Settings, int FestivalRate, string Out);

    /// <summary>Parses arguments; returns the error (naming the flag) or the arguments.</summary>
    public static (Arguments? Args, string? Error) Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (Array.IndexOf(Options, args[i]) < 0) return (null, $"unknown option '{args[i]}'");
            // A value is never an option: "--rate --target URL" is a --rate without its value.
            if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal)) return (null, $"{args[i]} needs a value");
            if (!values.TryAdd(args[i], args[i + 1])) return (null, $"{args[i]} is given more than once");
            i++;
        }
        if (!values.TryGetValue("--scenario", out var scenario)) return (null, $"--scenario is required ({string.Join(", ", Scenarios)})");
        if (Array.IndexOf(Scenarios, scenario) < 0) return (null, $"--scenario '{scenario}' is not one of {string.Join(", ", Scenarios)}");
        var targetText = values.GetValueOrDefault("--target", "http://127.0.0.1:5080");
        if (!Uri.TryCreate(targetText, UriKind.Absolute, out var target) || target.Scheme is not ("http" or "https")) return (null, $"--target '{targetText}' is not an http(s) URL");

        int? Int(string flag, int min, int max, out string? error)
        {
            error = null;
            if (!values.TryGetValue(flag, out var text)) return null;
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max) return n;
            error = $"{flag} '{text}' must be a whole number from {min} to {max}";
            return null;
        }
        TimeSpan? Span(string flag, out string? error)
        {
            error = null;
            if (!values.TryGetValue(flag, out var text)) return null;
            if (ParseDuration(text) is { } d && d <= TimeSpan.FromHours(2)) return d;
            error = $"{flag} '{text}' must be a duration like 30s, 2m or 500ms, at most 2h";
            return null;
        }

        var rate = Int("--rate", 1, 1_000_000, out var e1);
        var copies = Int("--copies", 1, 10_000, out var e2);
        var members = Int("--members", 1, 100_000_000, out var e3);
        var batch = Int("--batch", 1, 1000, out var e4);
        var festivalRate = Int("--festival-rate", 1, 100_000, out var e5);
        var connections = Int("--connections", 1, 10_000, out var e9);
        var firstMember = Int("--first-member", 0, 1_000_000_000, out var e10);
        var duration = Span("--duration", out var e6);
        var warmup = Span("--warmup", out var e7);
        double? maxP99 = null;
        string? e8 = null;
        if (values.TryGetValue("--max-p99", out var p99Text))
        {
            if (double.TryParse(p99Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var p) && p > 0) maxP99 = p;
            else e8 = $"--max-p99 '{p99Text}' must be a number of milliseconds greater than 0";
        }
        if (new[] { e1, e2, e3, e4, e5, e6, e7, e8, e9, e10 }.FirstOrDefault(e => e is not null) is { } error) return (null, error);
        if (duration == TimeSpan.Zero) return (null, "--duration must be greater than 0");
        var client = target.Scheme == "https" ? ClientKind.HttpClient : ClientKind.Lean;
        if (values.TryGetValue("--client", out var clientText))
        {
            client = clientText switch
            {
                "lean" => ClientKind.Lean,
                "httpclient" => ClientKind.HttpClient,
                _ => (ClientKind)(-1),
            };
            if (!Enum.IsDefined(client)) return (null, $"--client '{clientText}' is not one of lean, httpclient");
            if (client == ClientKind.Lean && target.Scheme == "https") return (null, "--client lean speaks plain HTTP only: use --client httpclient for an https --target");
        }

        var settings = new LoadSettings
        {
            Target = target,
            ApiKey = values.GetValueOrDefault("--api-key"),
            Program = values.GetValueOrDefault("--program", "default"),
            Members = members ?? 10_000,
            FirstMember = firstMember ?? 0,
            Rate = rate,
            Copies = copies ?? 64,
            Duration = duration ?? TimeSpan.FromSeconds(30),
            WarmUp = warmup ?? TimeSpan.FromSeconds(3),
            BatchSize = batch ?? 500,
            MaxP99Ms = maxP99,
            Connections = connections ?? 64,
            Client = client,
        };
        var stamp = DateTimeOffset.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var output = values.GetValueOrDefault("--out", Path.Combine("load-tests", "results", $"{scenario}-{stamp}"));
        return (new Arguments(scenario, settings, festivalRate ?? 2, output), null);
    }

    public static TimeSpan? ParseDuration(string text)
    {
        // Finite and below a day before it becomes a TimeSpan (Infinity or 1e300s would overflow it); the caller holds the 2h limit.
        static TimeSpan? Number(string digits, Func<double, TimeSpan> unit)
            => double.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0 && double.IsFinite(n) && n < 1e7 && unit(n) is var d && d < TimeSpan.FromDays(1) ? d : null;
        if (text.EndsWith("ms", StringComparison.Ordinal)) return Number(text[..^2], TimeSpan.FromMilliseconds);
        if (text.EndsWith('s')) return Number(text[..^1], TimeSpan.FromSeconds);
        if (text.EndsWith('m')) return Number(text[..^1], TimeSpan.FromMinutes);
        if (text.EndsWith('h')) return Number(text[..^1], TimeSpan.FromHours);
        return Number(text, TimeSpan.FromSeconds);
    }

    /// <param name="producers">mixed: the festival's own connections; checkout systems and order systems are separate clients, and a checkout must not wait for a connection a batch holds</param>
    public static IReadOnlyList<Scenario> Build(Arguments a, IHttpTransport http, IHttpTransport? producers = null) => a.Scenario switch
    {
        "baseline" => [MembershipScenarios.Baseline(http, a.Settings)],
        "checkout" => [MembershipScenarios.Checkout(http, a.Settings)],
        "festival" => [MembershipScenarios.Festival(http, a.Settings)],
        "seed" => [MembershipScenarios.Seed(http, a.Settings)],
        "stream" => [StreamScenario.Create(a.Settings)],
        _ =>
        [
            // --max-p99 is checkout's: a batch of 500 events is not held to a check's latency.
            MembershipScenarios.Festival(producers ?? http, a.Settings with { Rate = a.FestivalRate, MaxP99Ms = null }),
            MembershipScenarios.Checkout(http, a.Settings),
        ],
    };

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter errors)
    {
        if (args.Length == 0 || args.Contains("--help") || args.Contains("-h"))
        {
            await output.WriteLineAsync(Usage);
            return args.Length == 0 ? BadArguments : 0;
        }
        if (args[0] == "compare") return await CompareAsync(args[1..], output, errors);
        if (args[0] == "index") return await IndexAsync(args[1..], output, errors);
        var (parsed, error) = Parse(args);
        if (parsed is null)
        {
            await errors.WriteLineAsync($"error: {error}\n\n{Usage}");
            return BadArguments;
        }
        using var http = MembershipScenarios.Client(parsed.Settings);
        using var producers = parsed.Scenario == "mixed" ? MembershipScenarios.Client(parsed.Settings) : null;
        var scenarios = Build(parsed, http, producers);
        var warnings = new List<string>();
        IReadOnlyList<ScenarioResult> results;
        try
        {
            if (parsed.Scenario is "checkout" or "mixed" && await MembershipScenarios.UnseededWarning(http, parsed.Settings, CancellationToken.None) is { } warning)
            {
                warnings.Add(warning);
                await errors.WriteLineAsync($"warning: {warning}");
            }
            results = await Runner.RunAsync(scenarios, new RunOptions { Progress = errors });
        }
        catch (Exception e) when (e is InvalidOperationException or HttpRequestException)
        {
            await errors.WriteLineAsync($"error: {e.Message}");
            return Unreachable;
        }
        await output.WriteLineAsync(Reports.Console(results));
        var run = Reports.WriteAll(results, parsed.Out, new RunInfo($"{parsed.Scenario} against {parsed.Settings.Target}", Parameters(parsed), warnings));
        foreach (var s in run.Scenarios)
        {
            foreach (var hint in s.Hints.Where(h => h.Level == "warning")) await output.WriteLineAsync($"  warning ({s.Name}): {hint.Text}");
        }
        await output.WriteLineAsync($"reports: {Path.GetFullPath(parsed.Out)} ({Reports.Files}); open report.html");
        if (results.Any(r => !r.ThresholdsPassed)) return ThresholdsFailed;
        if (results.Any(r => !r.Valid)) return InvalidRun;
        return 0;
    }

    /// <summary>The run's parameters as its report shows them (never the API key itself).</summary>
    public static Dictionary<string, string> Parameters(Arguments a)
    {
        var s = a.Settings;
        var inv = CultureInfo.InvariantCulture;
        var p = new Dictionary<string, string>
        {
            ["scenario"] = a.Scenario,
            ["target"] = s.Target.ToString(),
            ["program"] = s.Program,
            ["load"] = a.Scenario == "seed"
                ? string.Create(inv, $"closed model: {Math.Min(s.Copies, 8)} copies until every member is seeded")
                : s.Rate is { } rate ? string.Create(inv, $"open model: {rate} iterations/s") : string.Create(inv, $"closed model: {s.Copies} copies at full speed"),
        };
        if (a.Scenario == "mixed") p["festival rate"] = string.Create(inv, $"{a.FestivalRate} batches/s (open model)");
        if (a.Scenario != "seed") p["duration"] = ScenarioReport.Span(s.Duration);
        if (a.Scenario != "seed") p["warm-up"] = ScenarioReport.Span(s.WarmUp);
        if (a.Scenario != "baseline") p["members"] = string.Create(inv, $"{s.Members} (m{s.FirstMember}..m{(long)s.FirstMember + s.Members - 1})");
        if (a.Scenario is "festival" or "mixed" or "seed") p["batch"] = string.Create(inv, $"{s.BatchSize} events");
        p["connections"] = s.Connections.ToString(inv);
        p["client"] = s.Client == ClientKind.Lean ? "lean" : "httpclient";
        if (s.MaxP99Ms is { } p99) p["max p99"] = string.Create(inv, $"{p99} ms");
        p["api key"] = s.ApiKey is null ? "none" : "set";
        p["out"] = a.Out;
        return p;
    }

    private static async Task<int> CompareAsync(string[] args, TextWriter output, TextWriter errors)
    {
        var paths = new List<string>();
        string? folder = null;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--out")
            {
                if (i + 1 >= args.Length) return await Refuse(errors, "--out needs a value");
                folder = args[++i];
            }
            else if (args[i].StartsWith("--", StringComparison.Ordinal)) return await Refuse(errors, $"unknown option '{args[i]}' for compare");
            else paths.Add(args[i]);
        }
        if (paths.Count != 2) return await Refuse(errors, "compare needs two runs: compare A B (each a run's folder or its report.json)");
        RunReport a, b;
        try
        {
            a = RunReport.Read(paths[0]);
            b = RunReport.Read(paths[1]);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            await errors.WriteLineAsync($"error: {e.Message}");
            return Unreachable;
        }
        folder ??= Path.Combine("load-tests", "results", "compare-" + DateTimeOffset.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        var comparison = Comparison.Of(a, b, sourceA: paths[0], sourceB: paths[1]);
        comparison.WriteAll(folder);
        await output.WriteLineAsync(comparison.Markdown());
        await output.WriteLineAsync($"comparison: {Path.GetFullPath(folder)} (compare.md, compare.html)");
        return 0;
    }

    private static async Task<int> IndexAsync(string[] args, TextWriter output, TextWriter errors)
    {
        if (args.Length is not (1 or 3) || (args.Length == 3 && args[1] != "--title")) return await Refuse(errors, "index needs a folder: index DIR [--title TEXT]");
        var folder = args[0];
        if (!Directory.Exists(folder))
        {
            await errors.WriteLineAsync($"error: no folder '{folder}'");
            return Unreachable;
        }
        try
        {
            if (RunIndex.Runs(folder).Count == 0)
            {
                await errors.WriteLineAsync($"error: no run (a subfolder with a report.json) in '{folder}'");
                return Unreachable;
            }
            RunIndex.Write(folder, args.Length == 3 ? args[2] : null);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            await errors.WriteLineAsync($"error: {e.Message}");
            return Unreachable;
        }
        await output.WriteLineAsync($"index: {Path.GetFullPath(Path.Combine(folder, "index.html"))} (and index.md)");
        return 0;
    }

    private static async Task<int> Refuse(TextWriter errors, string error)
    {
        await errors.WriteLineAsync($"error: {error}\n\n{Usage}");
        return BadArguments;
    }
}
