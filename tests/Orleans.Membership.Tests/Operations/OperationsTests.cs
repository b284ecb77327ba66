using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Orleans.Membership.Tests.Support;

namespace Orleans.Membership.Tests.Operations;

/// <summary>One series of a Prometheus text scrape.</summary>
public sealed record Series(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    private static readonly Regex Line = new("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)""", RegexOptions.Compiled);
    private static readonly Regex Label = new("""(?<key>[a-zA-Z_][a-zA-Z0-9_]*)="(?<value>(?:[^"\\]|\\.)*)",?""", RegexOptions.Compiled);

    public static IReadOnlyList<Series> Parse(string text)
    {
        var series = new List<Series>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var m = Line.Match(line);
            Assert.True(m.Success, $"not a Prometheus sample line: {line}");
            var labels = Label.Matches(m.Groups["labels"].Value).ToDictionary(l => l.Groups["key"].Value, l => l.Groups["value"].Value);
            series.Add(new Series(m.Groups["name"].Value, labels, double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture)));
        }
        return series;
    }

    public static async Task<IReadOnlyList<Series>> Scrape(HttpClient http)
    {
        var response = await http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Parse(await response.Content.ReadAsStringAsync());
    }
}

public static class SeriesExtensions
{
    /// <summary>The value of the one series named so with these labels (others may be present), or null.</summary>
    public static double? Value(this IEnumerable<Series> scrape, string name, params (string Key, string Value)[] labels)
        => scrape.SingleOrDefault(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value))?.Value;
}

public sealed class OperationsTests(NodeFixture node) : IClassFixture<NodeFixture>
{
    private HttpClient Http => node.Http;

    [Fact]
    public async Task Live_and_ready_answer_JSON_and_healthz_stays_as_it_was()
    {
        var live = await Http.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal("application/json", live.Content.Headers.ContentType?.MediaType);
        Assert.Equal("healthy", JsonDocument.Parse(await live.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());

        var ready = await Http.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        Assert.Equal("healthy", body.RootElement.GetProperty("status").GetString());
        var checks = body.RootElement.GetProperty("checks");
        Assert.Equal(["ledger", "silo"], checks.EnumerateObject().Select(c => c.Name).Order());
        Assert.Contains("active", checks.GetProperty("silo").GetProperty("description").GetString());

        Assert.Equal("""{"status":"ok"}""", await Http.GetStringAsync("/healthz"));
    }

    [Fact]
    public async Task Metrics_count_events_and_benefit_checks_by_program_type_code_and_result()
    {
        // A program of this test's own, so the counts are exactly this test's.
        var program = "metrics-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(HttpStatusCode.OK, (await Http.Send(HttpMethod.Put, $"/v1/programs/{program}", TestPrograms.Json("default"))).Status);
        var p = $"/v1/programs/{program}";
        var batch = """
            {"events":[
              {"eventId":"e1","memberId":"u1","type":"order.paid","orderId":"o1","amount":100},
              {"eventId":"e2","memberId":"u1","type":"sign-in"},
              {"eventId":"e3","memberId":"u2","type":"order.paid","orderId":"o3","amount":-1},
              {"eventId":"e4","memberId":"u2","type":"no-such-type"}]}
            """;
        var first = await Http.Post($"{p}/events", batch);
        Assert.Equal((HttpStatusCode.OK, 2), (first.Status, first.Body.GetProperty("accepted").GetInt32()));
        Assert.Equal(2, (await Http.Post($"{p}/events", batch)).Body.GetProperty("duplicates").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await Http.Get($"{p}/members/u1/benefits/free-shipping")).Status); // bronze: not entitled (tier)
        Assert.Equal(HttpStatusCode.OK, (await Http.Get($"{p}/members/u1/benefits/birthday-gift")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.Get($"{p}/members/u1/benefits/no-such-benefit")).Status);
        Assert.Equal(HttpStatusCode.OK, (await Http.Get($"{p}/members/u1/benefits")).Status); // every code of the program, one check each
        // HEAD asks whether a GET would succeed: it is answered the same, and counted as no check.
        foreach (var path in new[] { $"{p}/members/u1/benefits/free-shipping", $"{p}/members/u1/benefits", $"{p}/members/u1/benefits/no-such-benefit" })
        {
            using var head = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
            Assert.Equal(path.EndsWith("no-such-benefit", StringComparison.Ordinal) ? HttpStatusCode.NotFound : HttpStatusCode.OK, head.StatusCode);
        }
        Assert.Equal(HttpStatusCode.Conflict, (await Http.Post($"{p}/members/u1/benefits/free-shipping/uses", """{"useId":"use-1"}""")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.Post($"{p}/members/u1/benefits/no-such-benefit/uses", """{"useId":"use-2"}""")).Status);

        var scrape = await Series.Scrape(Http);
        var events = scrape.Where(s => s.Name == "membership_events_total" && s.Labels["program"] == program).ToList();
        Assert.Equal(1, scrape.Value("membership_events_total", ("program", program), ("type", "order.paid"), ("result", "accepted")));
        Assert.Equal(1, scrape.Value("membership_events_total", ("program", program), ("type", "sign-in"), ("result", "accepted")));
        Assert.Equal(1, scrape.Value("membership_events_total", ("program", program), ("type", "order.paid"), ("result", "duplicate")));
        Assert.Equal(1, scrape.Value("membership_events_total", ("program", program), ("type", "sign-in"), ("result", "duplicate")));
        Assert.Equal(2, scrape.Value("membership_events_total", ("program", program), ("type", "order.paid"), ("result", "rejected")));
        // A type the program does not define is not a series of its own: anyone can send one.
        Assert.Equal(2, scrape.Value("membership_events_total", ("program", program), ("type", "other"), ("result", "rejected")));
        Assert.Equal(8, events.Sum(s => s.Value));

        var checks = scrape.Where(s => s.Name == "membership_benefit_checks_total" && s.Labels["program"] == program).ToList();
        var codes = TestPrograms.Default.Benefits.Count;
        Assert.Equal(2 + codes + 1, checks.Sum(s => s.Value));
        Assert.Equal(2, scrape.Value("membership_benefit_checks_total", ("program", program), ("code", "free-shipping"), ("result", "tier")));
        Assert.Equal(2, checks.Where(s => s.Labels.GetValueOrDefault("code") == "birthday-gift").Sum(s => s.Value));
        Assert.Single(checks, s => s.Labels["result"] == "unknown-code" && !s.Labels.ContainsKey("code"));

        var uses = scrape.Where(s => s.Name == "membership_benefit_uses_total" && s.Labels["program"] == program).ToList();
        Assert.Equal(2, uses.Sum(s => s.Value));
        Assert.Equal(1, scrape.Value("membership_benefit_uses_total", ("program", program), ("code", "free-shipping"), ("result", "tier")));
        Assert.Single(uses, s => s.Labels["result"] == "unknown-code" && !s.Labels.ContainsKey("code"));

        Assert.True(scrape.Value("membership_members_active") >= 1); // u1 (u2 sent only rejected events: never activated)
        Assert.NotNull(scrape.Value("membership_stream_events_total", ("result", "accepted")));
        Assert.NotNull(scrape.Value("membership_stream_batches_held"));
        // ASP.NET Core's, the runtime's and Orleans' own meters are exported beside the engine's.
        Assert.Contains(scrape, s => s.Name == "http_server_request_duration_seconds_count" && s.Labels.GetValueOrDefault("http_route", "").StartsWith("/v1/programs/{programId}/events", StringComparison.Ordinal));
        Assert.Contains(scrape, s => s.Name == "dotnet_gc_collections_total");
        Assert.Contains(scrape, s => s.Name == "orleans_catalog_activations");
    }
}

public sealed class DashboardTests(KeyedNodeFixture node) : IClassFixture<KeyedNodeFixture>
{
    [Fact]
    public async Task The_dashboard_is_for_admin_keys_by_header_or_as_a_basic_password()
    {
        using var anonymous = await node.Http.GetAsync("/dashboard/");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("Basic", anonymous.Headers.WwwAuthenticate.Single().Scheme);

        Assert.Equal(HttpStatusCode.Forbidden, await Status("/dashboard/", r => r.Headers.Add("X-Api-Key", "k-checkout")));
        Assert.Equal(HttpStatusCode.OK, await Status("/dashboard/", r => r.Headers.Add("X-Api-Key", "k-admin")));
        Assert.Equal(HttpStatusCode.OK, await Status("/dashboard/version", r => r.Headers.Authorization = Basic("ops", "k-admin")));
        Assert.Equal(HttpStatusCode.Forbidden, await Status("/dashboard/version", r => r.Headers.Authorization = Basic("ops", "k-ingest")));
        Assert.Equal(HttpStatusCode.Unauthorized, await Status("/dashboard/version", r => r.Headers.Authorization = Basic("ops", "wrong")));
    }

    [Fact]
    public async Task Health_and_metrics_need_no_key()
    {
        Assert.Equal(HttpStatusCode.OK, await Status("/health/live", _ => { }));
        Assert.Equal(HttpStatusCode.OK, await Status("/health/ready", _ => { }));
        Assert.Equal(HttpStatusCode.OK, await Status("/metrics", _ => { }));
    }

    private static AuthenticationHeaderValue Basic(string user, string password)
        => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private async Task<HttpStatusCode> Status(string path, Action<HttpRequestMessage> configure)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        configure(request);
        using var response = await node.Http.SendAsync(request);
        return response.StatusCode;
    }
}

public sealed class TelemetryOffFixture : NodeFixture
{
    protected override IEnumerable<string> ExtraArgs => ["--Membership:Telemetry:Enabled=false", "--Membership:Dashboard:Enabled=false"];
}

public sealed class TelemetryOffTests(TelemetryOffFixture node) : IClassFixture<TelemetryOffFixture>
{
    [Fact]
    public async Task Without_telemetry_and_dashboard_their_paths_are_not_served()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await node.Http.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await node.Http.GetAsync("/dashboard/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task A_404s_hint_lists_only_the_paths_this_process_serves()
    {
        // As on the API-only process, which has no dashboard: the hint must not send a caller to it.
        var (status, problem) = await node.Http.Get("/dashboard");
        Assert.Equal(HttpStatusCode.NotFound, status);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.EndsWith("(beside it: /health/live, /health/ready)", detail);
    }
}
