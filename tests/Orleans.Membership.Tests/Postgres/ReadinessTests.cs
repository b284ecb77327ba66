using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Npgsql;
using Orleans.Membership.Tests.Operations;
using Orleans.Membership.Tests.Support;

namespace Orleans.Membership.Tests.Postgres;

/// <summary>A node on PostgreSQL through a proxy the test cuts: the shared server keeps running for everyone else.</summary>
[Collection(PostgresCollection.Name), Trait("Category", "Postgres")]
public sealed class ReadinessTests(PostgresFixture pg)
{
    [Fact]
    public async Task Ready_turns_503_while_PostgreSQL_is_away_and_back_by_itself()
    {
        var run = "ready-" + Guid.NewGuid().ToString("N")[..8];
        var direct = new NpgsqlConnectionStringBuilder(pg.ConnectionString);
        await using var proxy = TcpProxy.Start(direct.Host!, direct.Port);
        var viaProxy = new NpgsqlConnectionStringBuilder(pg.ConnectionString) { Port = proxy.Port }.ConnectionString;
        await using var node = await NodeProcess.StartAsync(viaProxy, run);
        using var http = new HttpClient { BaseAddress = node.Url, Timeout = TimeSpan.FromSeconds(30) };

        var (status, ready) = await ReadyWhen(http, HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["ledger", "postgres", "silo"], ready.GetProperty("checks").EnumerateObject().Select(c => c.Name).Order());
        Assert.All(ready.GetProperty("checks").EnumerateObject(), c => Assert.Equal("healthy", c.Value.GetProperty("status").GetString()));
        Assert.Equal(HttpStatusCode.OK, (await Send(http, run, 1)).StatusCode);

        proxy.Cut();
        (status, ready) = await ReadyWhen(http, HttpStatusCode.ServiceUnavailable);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("unhealthy", ready.GetProperty("status").GetString());
        Assert.Equal("unhealthy", ready.GetProperty("checks").GetProperty("postgres").GetProperty("status").GetString());
        Assert.Equal("healthy", ready.GetProperty("checks").GetProperty("silo").GetProperty("status").GetString());
        // The probe needs no key: it names no address, the database's or the silo's.
        Assert.DoesNotContain("127.0.0.1", ready.GetRawText());
        Assert.DoesNotContain(proxy.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), ready.GetRawText());
        // Live stays 200: the process serves, a restart would not bring the database back.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await Send(http, run, 2)).StatusCode);

        proxy.Restore();
        (status, ready) = await ReadyWhen(http, HttpStatusCode.OK, TimeSpan.FromSeconds(60));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(HttpStatusCode.OK, (await Send(http, run, 2)).StatusCode);

        // The ledger writer's commits and Npgsql's own meter are in the scrape.
        var scrape = await Series.Scrape(http);
        Assert.True(scrape.Value("membership_ledger_commit_rows_count", ("result", "committed")) >= 2);
        Assert.True(scrape.Value("membership_ledger_commit_rows_count", ("result", "failed")) >= 1);
        Assert.NotNull(scrape.Value("membership_ledger_commit_duration_seconds_bucket", ("result", "committed"), ("le", "+Inf")));
        Assert.Contains(scrape, s => s.Name.StartsWith("db_client_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_PostgreSQL_restart_costs_no_request_once_the_server_is_back()
    {
        var run = "restart-" + Guid.NewGuid().ToString("N")[..8];
        // The node's sessions carry the run as their application name: the test closes only those.
        var named = new NpgsqlConnectionStringBuilder(pg.ConnectionString) { ApplicationName = run }.ConnectionString;
        await using var node = await NodeProcess.StartAsync(named, run);
        using var http = new HttpClient { BaseAddress = node.Url, Timeout = TimeSpan.FromSeconds(30) };
        Assert.Equal(HttpStatusCode.OK, (await ReadyWhen(http, HttpStatusCode.OK)).Status);

        // Concurrent first events fill the pools: member activations read snapshots and ledgers on many connections.
        var warm = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => Send(http, run + "-w" + i, 1)));
        Assert.All(warm, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));

        // What a server restart does to a client's pool: every session closed with 57P01, the server still up.
        await using (var admin = new NpgsqlConnection(pg.ConnectionString))
        {
            await admin.OpenAsync();
            await using var terminate = new NpgsqlCommand("select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = @run", admin);
            terminate.Parameters.AddWithValue("run", run);
            Assert.True((long)(await terminate.ExecuteScalarAsync())! >= 2);
        }

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);
        var after = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => Send(http, run + "-a" + i, 1)));
        Assert.All(after, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
    }

    private static Task<HttpResponseMessage> Send(HttpClient http, string run, int order)
        => http.PostAsync("/v1/programs/default/events", new StringContent(
            $$"""{"eventId":"{{run}}-o{{order}}","memberId":"{{run}}","type":"order.paid","orderId":"{{run}}-o{{order}}","occurredAt":"2026-11-01T10:00:00+08:00","amount":10}""",
            System.Text.Encoding.UTF8, "application/json"));

    /// <summary>Polls /health/ready until it answers the status (or the deadline passes); returns the last answer.</summary>
    private static async Task<(HttpStatusCode Status, JsonElement Body)> ReadyWhen(HttpClient http, HttpStatusCode wanted, TimeSpan? within = null)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var response = await http.GetAsync("/health/ready");
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
            if (response.StatusCode == wanted || deadline.Elapsed > (within ?? TimeSpan.FromSeconds(30))) return (response.StatusCode, body);
            await Task.Delay(250);
        }
    }
}
