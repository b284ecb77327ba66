using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Orleans.Membership.Tests.Postgres;
using Orleans.Membership.Tests.Support;

namespace Orleans.Membership.Tests.Operations;

public sealed class LimitedNodeFixture : NodeFixture
{
    protected override IEnumerable<string> ExtraArgs =>
    [
        "--Membership:ApiKeys:0:Key=k-checkout", "--Membership:ApiKeys:0:Roles=checkout",
        "--Membership:ApiKeys:1:Key=k-admin", "--Membership:ApiKeys:1:Roles=admin",
        "--Membership:ApiKeys:2:Key=k-prober", "--Membership:ApiKeys:2:Roles=checkout",
        "--Membership:RateLimits:checkout:PerSecond=1", "--Membership:RateLimits:checkout:Burst=3",
        "--Membership:Cors:Origins=https://shop.example.com",
    ];
}

public sealed class EdgeTests(LimitedNodeFixture node) : IClassFixture<LimitedNodeFixture>
{
    private const string Check = "/v1/programs/default/members/edge-u1/benefits/free-shipping";

    [Fact]
    public async Task A_key_over_its_roles_limit_gets_429_problem_json_with_Retry_After()
    {
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 10 && refused is null; i++)
        {
            var response = await Send(HttpMethod.Get, Check, "k-checkout");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests) refused = response;
        }
        Assert.NotNull(refused);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK], statuses.Take(3)); // the burst
        Assert.True(statuses.Count(s => s == HttpStatusCode.OK) <= 4, string.Join(",", statuses)); // a burst of 3, plus at most one refill
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.True(int.Parse(refused.Headers.GetValues("Retry-After").Single()) >= 1);
        using var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        Assert.Equal(429, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Equal("rate-limit", problem.RootElement.GetProperty("reason").GetString());
        // The one error shape: the members every other problem has (a 401 here), with a type naming the status.
        using var unauthorized = await Send(HttpMethod.Get, Check, null);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        using var other = JsonDocument.Parse(await unauthorized.Content.ReadAsStringAsync());
        foreach (var member in other.RootElement.EnumerateObject())
        {
            Assert.True(problem.RootElement.TryGetProperty(member.Name, out _), $"the 429 has no '{member.Name}' as the 401 has");
        }
        Assert.Contains("rfc6585", problem.RootElement.GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_role_without_a_limit_and_the_probes_are_not_limited()
    {
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, Check, "k-admin")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, "/health/ready", null)).StatusCode);
        }
    }

    [Fact]
    public async Task Probes_and_scrapes_sent_with_a_limited_key_are_neither_limited_nor_counted_against_it()
    {
        foreach (var path in new[] { "/healthz", "/health/live", "/health/ready", "/metrics" })
        {
            for (var i = 0; i < 10; i++)
            {
                Assert.Equal((path, HttpStatusCode.OK), (path, (await Send(HttpMethod.Get, path, "k-prober")).StatusCode));
            }
        }
        // The key's burst of 3 is still whole.
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, Check, "k-prober")).StatusCode);
    }

    [Fact]
    public async Task Configured_origins_may_call_from_a_browser_and_others_get_no_CORS_headers()
    {
        using var preflight = new HttpRequestMessage(HttpMethod.Options, Check);
        preflight.Headers.Add("Origin", "https://shop.example.com");
        preflight.Headers.Add("Access-Control-Request-Method", "GET");
        preflight.Headers.Add("Access-Control-Request-Headers", "x-api-key");
        using var allowed = await node.Http.SendAsync(preflight);
        Assert.Equal(HttpStatusCode.NoContent, allowed.StatusCode);
        Assert.Equal("https://shop.example.com", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("x-api-key", allowed.Headers.GetValues("Access-Control-Allow-Headers").Single(), StringComparison.OrdinalIgnoreCase);

        using var other = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        other.Headers.Add("Origin", "https://evil.example.com");
        using var refused = await node.Http.SendAsync(other);
        Assert.False(refused.Headers.Contains("Access-Control-Allow-Origin"));
    }

    private async Task<HttpResponseMessage> Send(HttpMethod method, string path, string? key)
    {
        var request = new HttpRequestMessage(method, path);
        if (key is not null) request.Headers.Add("X-Api-Key", key);
        return await node.Http.SendAsync(request);
    }
}

public sealed class JsonLogTests
{
    [Fact]
    public async Task Membership_Logging_Json_writes_one_JSON_object_per_log_line()
    {
        await using var node = await NodeProcess.StartAsync("", "json-" + Guid.NewGuid().ToString("N")[..8], settings: ["--Membership:Logging:Json=true"]);
        var deadline = Stopwatch.StartNew();
        JsonElement? ready = null;
        while (ready is null && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            foreach (var line in node.Output.Where(l => l.StartsWith('{')))
            {
                var entry = JsonDocument.Parse(line).RootElement;
                if (entry.GetProperty("Category").GetString() == "Orleans.Membership.Silo.ShippedPrograms") ready = entry.Clone();
            }
            if (ready is null) await Task.Delay(50);
        }
        Assert.NotNull(ready);
        Assert.Equal("Information", ready.Value.GetProperty("LogLevel").GetString());
        Assert.Matches("^Program [a-z-]+ v\\d+ ready$", ready.Value.GetProperty("Message").GetString());
        Assert.EndsWith("Z", ready.Value.GetProperty("Timestamp").GetString());
    }
}
