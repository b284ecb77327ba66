using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Orleans.Membership.LoadTests.Harness;
using Orleans.Membership.LoadTests.Http;

namespace Orleans.Membership.LoadTests.Scenarios;

/// <summary>What every scenario needs: the node, the key, the member population, the load shape.</summary>
public sealed record LoadSettings
{
    public required Uri Target { get; init; }
    public string? ApiKey { get; init; }
    public string Program { get; init; } = "default";
    public int Members { get; init; } = 10_000;
    /// <summary>The first member's number: the population is m{FirstMember}..m{FirstMember + Members - 1}.</summary>
    public int FirstMember { get; init; }
    public int? Rate { get; init; }
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);
    public int BatchSize { get; init; } = 500;
    public int Copies { get; init; } = 64;
    public TimeSpan WarmUp { get; init; } = TimeSpan.FromSeconds(3);
    public string RunId { get; init; } = DateTimeOffset.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
    public double? MaxP99Ms { get; init; }
    /// <summary>HTTP connections the generator may open; queued requests still count from their intended start.</summary>
    public int Connections { get; init; } = 64;
    /// <summary>What sends the requests: the lean HTTP/1.1 client (plain http) or HttpClient.</summary>
    public ClientKind Client { get; init; } = ClientKind.Lean;
}

/// <summary>The scenarios load testers run against a node (see load-tests/README.md).</summary>
public static partial class MembershipScenarios
{
    public static IHttpTransport Client(LoadSettings s) => Transports.Create(s.Client, s.Target, s.Connections, s.ApiKey);

    /// <summary>The load shape: an open-model rate when one is given, else a closed model at full speed.</summary>
    private static LoadSimulation Load(LoadSettings s) => s.Rate is { } rate
        ? Simulation.Inject(rate, TimeSpan.FromSeconds(1), s.Duration)
        : Simulation.KeepConstant(s.Copies, s.Duration);

    private static Threshold[] Thresholds(LoadSettings s)
    {
        var list = new List<Threshold> { Threshold.Create(st => st.Fail.Request.Percent < 1, "fewer than 1% of requests fail") };
        if (s.MaxP99Ms is { } p99) list.Add(Threshold.Create(st => st.Ok.Latency.Percent99 <= p99, $"p99 latency <= {p99} ms"));
        return [.. list];
    }

    /// <summary>GET /healthz: this machine's plain-HTTP ceiling, the yardstick for the others.</summary>
    public static Scenario Baseline(IHttpTransport http, LoadSettings s)
        => Scenario.Create("baseline", ctx => Step.Run("healthz", ctx, () => http.Send(HttpMethod.Get, "/healthz", null, ctx.CancellationToken)))
            .WithInit(async ct => await Reach(s, () => http.Send(HttpMethod.Get, "/healthz", null, ct)))
            .WithLoadSimulations(Load(s)).WithThresholds(Thresholds(s)).WithWarmUpDuration(s.WarmUp);

    /// <summary>Benefit checks over many members, popular ones far more often (Zipf, s = 1.1), as checkout traffic is.</summary>
    public static Scenario Checkout(IHttpTransport http, LoadSettings s)
    {
        var zipf = new Zipf(s.Members, 1.1);
        return Scenario.Create("checkout", ctx =>
            {
                var member = s.FirstMember + zipf.Sample(ctx.Random);
                var code = ctx.Random.NextDouble() < 0.7 ? "free-shipping" : "member-price";
                return Step.Run("benefit-check", ctx, () => http.Send(HttpMethod.Get, $"/v1/programs/{s.Program}/members/m{member}/benefits/{code}", null, ctx.CancellationToken));
            })
            .WithInit(ct => EnsureProgram(http, s, ProgramProbe.Benefits(s), ct))
            .WithLoadSimulations(Load(s)).WithThresholds(Thresholds(s)).WithWarmUpDuration(s.WarmUp);
    }

    /// <summary>Batches of scoring events (orders, sign-ins, reviews) at a rate; reports the events the node applied per second, and those it rejected.</summary>
    public static Scenario Festival(IHttpTransport http, LoadSettings s)
    {
        long batches = 0;
        return Scenario.Create("festival", ctx =>
            {
                var batch = Interlocked.Increment(ref batches);
                var json = EventBatch(s, batch, ctx.Random);
                return Step.Run("event-batch", ctx, () => SendEvents(http, s, json, ctx.CancellationToken));
            })
            .WithInit(ct => EnsureProgram(http, s, ProgramProbe.EmptyBatch(s), ct))
            .WithLoadSimulations(Load(s)).WithThresholds(Thresholds(s)).WithWarmUpDuration(s.WarmUp);
    }

    /// <summary>Creates members m{first}..m{first+N-1} with history: past-dated orders across two years and a sign-in each.</summary>
    public static Scenario Seed(IHttpTransport http, LoadSettings s)
    {
        const int eventsPerMember = 4;
        var membersPerBatch = Math.Max(1, s.BatchSize / eventsPerMember);
        var batchCount = (s.Members + membersPerBatch - 1) / membersPerBatch;
        long next = -1;
        // Dated from today's start (UTC): seeding the same members again that day sends the same events (duplicates).
        var now = new DateTimeOffset(DateTimeOffset.UtcNow.UtcDateTime.Date, TimeSpan.Zero);
        return Scenario.Create("seed", ctx =>
            {
                var b = Interlocked.Increment(ref next);
                var sb = new StringBuilder("{\"events\":[");
                for (var m = s.FirstMember + b * membersPerBatch; m < s.FirstMember + Math.Min(s.Members, (b + 1) * membersPerBatch); m++)
                {
                    var rnd = new Random((int)m);
                    for (var k = 0; k < eventsPerMember - 1; k++)
                    {
                        var at = now.AddDays(-rnd.Next(1, 700)).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
                        var amount = (rnd.Next(1000, 300000) / 100m).ToString("0.00", CultureInfo.InvariantCulture);
                        sb.Append(CultureInfo.InvariantCulture, $"{{\"eventId\":\"seed-m{m}-o{k}\",\"memberId\":\"m{m}\",\"type\":\"order.paid\",\"occurredAt\":\"{at}\",\"orderId\":\"seed-o{k}\",\"amount\":{amount}}},");
                    }
                    sb.Append(CultureInfo.InvariantCulture, $"{{\"eventId\":\"seed-m{m}-s\",\"memberId\":\"m{m}\",\"type\":\"sign-in\"}},");
                }
                sb.Length--;
                sb.Append("]}");
                var json = sb.ToString();
                return Step.Run("seed-batch", ctx, () => SendEvents(http, s, json, ctx.CancellationToken));
            })
            .WithInit(ct => EnsureProgram(http, s, ProgramProbe.EmptyBatch(s), ct))
            .WithLoadSimulations(Simulation.IterationsForConstant(Math.Min(s.Copies, 8), batchCount))
            .WithThresholds(Threshold.Create(st => st.Fail.Request.Count == 0, "every seed batch is accepted"));
    }

    /// <summary>
    /// Posts a batch of events. The node answers 200 even when it rejects some of them (each bad event
    /// alone): such a batch fails the step, named by its first rejection. Either way the answer's counts
    /// are the step's units: <c>events</c> the node applied (<c>accepted</c>), <c>rejectedEvents</c>, and
    /// <c>duplicateEvents</c> when there were any, so events/s is what the node applied.
    /// </summary>
    private static async Task<Response> SendEvents(IHttpTransport http, LoadSettings s, string json, CancellationToken ct)
        => EventBatchOutcome(await http.Send(HttpMethod.Post, $"/v1/programs/{s.Program}/events", json, ct, keepBody: true), $"/v1/programs/{s.Program}/events");

    internal static Response EventBatchOutcome(Response answer, string route)
    {
        if (!answer.IsOk) return answer;
        string? reason;
        Dictionary<string, long>? units = null;
        try
        {
            using var doc = JsonDocument.Parse(answer.Body ?? "");
            var root = doc.RootElement;
            if (!root.TryGetProperty("rejected", out var rejected) || rejected.ValueKind != JsonValueKind.Array) reason = "the answer has no 'rejected' list";
            else
            {
                units = new Dictionary<string, long>
                {
                    ["events"] = root.TryGetProperty("accepted", out var accepted) && accepted.TryGetInt64(out var a) ? a : 0,
                    ["rejectedEvents"] = rejected.GetArrayLength(),
                };
                if (root.TryGetProperty("duplicates", out var duplicates) && duplicates.TryGetInt64(out var d) && d > 0) units["duplicateEvents"] = d;
                if (rejected.GetArrayLength() == 0) return answer with { Units = units };
                reason = rejected[0].TryGetProperty("error", out var error) ? EventIndex().Replace(Transports.Members(error.ToString()), "[i]") : "rejected";
            }
        }
        catch (JsonException)
        {
            reason = answer.Body?.Length >= Transports.MaxKeptBody ? "an answer too long to read: many rejected" : "the answer is not JSON";
        }
        return Response.Fail(answer.StatusCode, $"HTTP {answer.StatusCode} POST {route}: events rejected ({reason})", answer.SizeBytes) with { Units = units };
    }

    [GeneratedRegex(@"\[\d+\]")]
    private static partial Regex EventIndex();

    internal static string EventBatch(LoadSettings s, long batch, Random random)
    {
        var sb = new StringBuilder("{\"events\":[");
        for (var i = 0; i < s.BatchSize; i++)
        {
            var member = s.FirstMember + random.Next(s.Members);
            var id = $"{s.RunId}-b{batch}-{i}";
            var roll = random.Next(10);
            if (roll < 7)
            {
                var amount = (random.Next(100, 100_000) / 100m).ToString("0.00", CultureInfo.InvariantCulture);
                sb.Append(CultureInfo.InvariantCulture, $"{{\"eventId\":\"{id}\",\"memberId\":\"m{member}\",\"type\":\"order.paid\",\"orderId\":\"{id}\",\"amount\":{amount}}},");
            }
            else
            {
                var type = roll < 9 ? "sign-in" : "review";
                sb.Append(CultureInfo.InvariantCulture, $"{{\"eventId\":\"{id}\",\"memberId\":\"m{member}\",\"type\":\"{type}\"}},");
            }
        }
        sb.Length--;
        return sb.Append("]}").ToString();
    }

    /// <summary>
    /// A warning when the population reaches past the seeded members: the summary of its last member is
    /// 404 (never seen). Checks of such members answer as a guest's, a cheaper path than a member's.
    /// Throws as the scenarios' init does when the node does not answer or lacks the program.
    /// </summary>
    public static async Task<string?> UnseededWarning(IHttpTransport http, LoadSettings s, CancellationToken ct)
    {
        await EnsureProgram(http, s, ProgramProbe.Benefits(s), ct);
        var last = (long)s.FirstMember + s.Members - 1;
        var response = await Reach(s, () => http.Send(HttpMethod.Get, $"/v1/programs/{s.Program}/members/m{last}", null, ct));
        if (response.StatusCode != 404) return null;
        var seed = $"--scenario seed --members {s.Members}" + (s.FirstMember > 0 ? $" --first-member {s.FirstMember}" : "");
        return $"m{last} was never seeded: --members {s.Members} from m{s.FirstMember} reaches past the seeded population, and checks of unseeded members answer as a guest's (the program's base entitlements), a cheaper path than a member's. Seed them first ({seed}).";
    }

    private static async Task<Response> Reach(LoadSettings s, Func<Task<Response>> send)
    {
        try
        {
            return await send();
        }
        catch (Exception e) when (e is HttpRequestException or System.Net.Sockets.SocketException or IOException or TimeoutException)
        {
            throw new InvalidOperationException($"{s.Target} does not answer ({e.Message}); is the node running?", e);
        }
    }

    /// <summary>
    /// A request that answers 200 only when the node serves the program, sent with the role the scenario's own
    /// requests need: a key that may run the scenario passes it, whatever else it may not do.
    /// </summary>
    private sealed record ProgramProbe(HttpMethod Method, string Path, string? Json, string Role)
    {
        public static ProgramProbe Benefits(LoadSettings s) => new(HttpMethod.Get, $"/v1/programs/{s.Program}/members/m0/benefits", null, "checkout");

        /// <summary>An empty batch applies nothing and needs only the role event batches need.</summary>
        public static ProgramProbe EmptyBatch(LoadSettings s) => new(HttpMethod.Post, $"/v1/programs/{s.Program}/events", """{"events":[]}""", "ingest");
    }

    private static async Task EnsureProgram(IHttpTransport http, LoadSettings s, ProgramProbe probe, CancellationToken ct)
    {
        var response = await Reach(s, () => http.Send(probe.Method, probe.Path, probe.Json, ct));
        var call = $"{probe.Method} {probe.Path}";
        var message = response.StatusCode switch
        {
            _ when response.IsOk => null,
            401 => $"{s.Target} refused the API key (HTTP 401): {(s.ApiKey is null ? "the node has API keys; pass one with --api-key" : "the node does not know the --api-key given")}. This scenario's {call} needs a key holding the '{probe.Role}' role",
            403 => $"the API key does not hold the '{probe.Role}' role this scenario needs (HTTP 403 to {call}); use a key with '{probe.Role}' (or 'admin')",
            404 => $"{s.Target} does not serve program '{s.Program}' (HTTP 404 to {call}); create it or pass --program",
            _ => $"{s.Target} cannot run this scenario: {response.Message ?? $"HTTP {response.StatusCode} to {call}"}",
        };
        if (message is not null) throw new InvalidOperationException(message);
    }
}

/// <summary>Zipf-distributed ranks 0..n-1 (rank 0 the most popular), by inverse transform over the cumulative weights.</summary>
public sealed class Zipf
{
    private readonly double[] _cumulative;

    public Zipf(int n, double exponent)
    {
        _cumulative = new double[n];
        double sum = 0;
        for (var k = 0; k < n; k++)
        {
            sum += 1.0 / Math.Pow(k + 1, exponent);
            _cumulative[k] = sum;
        }
        for (var k = 0; k < n; k++) _cumulative[k] /= sum;
    }

    public int Sample(Random random)
    {
        var i = Array.BinarySearch(_cumulative, random.NextDouble());
        return Math.Min(i < 0 ? ~i : i, _cumulative.Length - 1);
    }
}
