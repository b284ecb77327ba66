using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Orleans.Membership.Grains;
using Orleans.Membership.Tests.Support;

namespace Orleans.Membership.Tests.Postgres;

/// <summary>A node as a separate process on the PostgreSQL ledger, which the test can SIGKILL.</summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _output = new();
    public Uri Url { get; }
    public int SiloPort { get; }
    /// <summary>What the process wrote to its standard output so far, line by line.</summary>
    public IReadOnlyCollection<string> Output => _output;

    private NodeProcess(Process process, Uri url, int siloPort)
    {
        _process = process;
        Url = url;
        SiloPort = siloPort;
    }

    /// <summary>The ports a node keeps across restarts, as a real restarted node would: a new generation on the same endpoint supersedes the killed one.</summary>
    public sealed record Ports(int Http, int Silo, int Gateway)
    {
        public static Ports Free() => new(FreePorts.Next(), FreePorts.Next(), FreePorts.Next());
    }

    /// <summary>The API as a separate process: an Orleans client of the silos, through PostgreSQL clustering.</summary>
    public static Task<NodeProcess> StartApiAsync(string connectionString, string clusterId)
        => StartAsync(connectionString, clusterId, Ports.Free(), project: "Api");

    /// <param name="settings">more command-line settings (<c>--Section:Key=value</c>)</param>
    /// <param name="address">where the node serves HTTP and, for a silo, its <c>Membership:AdvertisedIP</c></param>
    public static async Task<NodeProcess> StartAsync(string connectionString, string clusterId, Ports? ports = null, string project = "Silo",
        IEnumerable<string>? settings = null, string address = "127.0.0.1")
    {
        ports ??= Ports.Free();
        var port = ports.Http;
        var url = new Uri($"http://{address}:{port}");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])
        [
            Dll(project), "--urls", url.ToString().TrimEnd('/'),
            $"--ConnectionStrings:Membership={connectionString}",
            $"--Membership:SiloPort={ports.Silo}", $"--Membership:GatewayPort={ports.Gateway}", $"--Membership:ClusterId={clusterId}",
            .. project == "Silo" && address != "127.0.0.1" ? [$"--Membership:AdvertisedIP={address}"] : (string[])[],
            .. settings ?? [],
        ])
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start)!;
        // The node prints this line once it serves: wait for it (or for the process to die).
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var node = new NodeProcess(process, url, ports.Silo);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null) node._output.Enqueue(e.Data);
            if (e.Data?.StartsWith("Orleans.Membership node listening on", StringComparison.Ordinal) == true
                || e.Data?.StartsWith("Orleans.Membership API (cluster client) listening on", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"the node exited with code {process.ExitCode} while starting"));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(60));
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGKILL: no shutdown, no flush, no snapshot.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>SIGTERM, as an orchestrator stops a node: a graceful shutdown.</summary>
    public void Terminate()
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))!;
        kill.WaitForExit();
    }

    /// <summary>Whether the process exited within <paramref name="within"/>.</summary>
    public Task<bool> ExitedAsync(TimeSpan within) => Task.Run(() => _process.WaitForExit(within));

    private bool _disposed;

    public ValueTask DisposeAsync()
    {
        if (_disposed) return ValueTask.CompletedTask;
        _disposed = true;
        if (!_process.HasExited) Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>src/Silo or src/Api as built in this test assembly's configuration (Debug or Release).</summary>
    internal static string Dll(string project)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = dir.Parent!.Name; // .../bin/<Configuration>/net10.0/
        var root = dir;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Orleans.Membership.sln"))) root = root.Parent;
        var dll = Path.Combine(root!.FullName, "src", project, "bin", configuration, "net10.0", $"Orleans.Membership.{project}.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"build src/{project} first", dll);
    }

    /// <summary>
    /// Reads each member through <paramref name="http"/> until all answer with <paramref name="balance"/> points
    /// or two minutes pass, while the cluster settles after a silo died: a request may fail meanwhile, but as
    /// a 503 to retry, never a 500. Returns the members served.
    /// </summary>
    public static async Task<int> ServedAgainAsync(HttpClient http, IReadOnlyCollection<string> members, long balance)
    {
        var served = new HashSet<string>();
        var settle = Stopwatch.StartNew();
        while (served.Count < members.Count && settle.Elapsed < TimeSpan.FromSeconds(120))
        {
            foreach (var m in members.Except(served).ToArray())
            {
                try
                {
                    var response = await http.GetAsync($"/v1/programs/default/members/{m}");
                    if (!response.IsSuccessStatusCode)
                    {
                        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                        continue;
                    }
                    using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                    Assert.Equal(balance, doc.RootElement.GetProperty("points").GetProperty("balance").GetInt64());
                    served.Add(m);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                }
            }
            if (served.Count < members.Count) await Task.Delay(200);
        }
        return served.Count;
    }
}

[Collection(PostgresCollection.Name), Trait("Category", "Postgres")]
public sealed class CrashTests(PostgresFixture pg)
{
    [Fact]
    public async Task A_node_killed_mid_ingest_loses_no_acknowledged_event_and_applies_none_twice()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var cluster = $"crash-{run}";
        var members = Enumerable.Range(0, 8).Select(i => $"crash-{run}-m{i}").ToArray();
        var random = new Random(20261123);
        var sent = new Dictionary<string, (string Member, decimal Amount)>();
        const int batches = 40;
        var killAt = new HashSet<int> { 12, 27 }; // before these batches, the node dies (one of them mid-request)

        var ports = NodeProcess.Ports.Free();
        var node = await NodeProcess.StartAsync(pg.ConnectionString, cluster, ports);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        try
        {
            for (var b = 0; b < batches; b++)
            {
                var events = Enumerable.Range(0, 10).Select(i =>
                {
                    var member = members[random.Next(members.Length)];
                    var amount = random.Next(100, 2000) / 100m; // small: no one leaves the x1.0 tiers
                    var id = $"b{b}-e{i}";
                    sent[id] = (member, amount);
                    return $$"""{"eventId":"{{id}}","memberId":"{{member}}","type":"order.paid","orderId":"{{id}}","occurredAt":"2026-11-01T10:00:00+08:00","amount":{{amount.ToString(CultureInfo.InvariantCulture)}}}""";
                });
                var body = $$"""{"events":[{{string.Join(",", events)}}]}""";

                if (killAt.Contains(b))
                {
                    // Send, and kill the node while the request may be anywhere between arrival and commit.
                    var inFlight = Post(http, node.Url, body);
                    node.Kill();
                    try { await inFlight; } catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
                    await node.DisposeAsync();
                    node = await NodeProcess.StartAsync(pg.ConnectionString, cluster, ports);
                }

                // The producer retries until the batch is acknowledged: every event is then accepted or a duplicate.
                for (var attempt = 0; ; attempt++)
                {
                    var response = await Post(http, node.Url, body);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                        Assert.Equal(0, doc.RootElement.GetProperty("rejected").GetArrayLength());
                        Assert.Equal(10, doc.RootElement.GetProperty("accepted").GetInt32() + doc.RootElement.GetProperty("duplicates").GetInt32());
                        break;
                    }
                    Assert.True(attempt < 5, $"batch {b} not acknowledged after {attempt} attempts: {response.StatusCode}");
                }
            }

            // One more restart so every member is rebuilt from the ledger alone.
            node.Kill();
            await node.DisposeAsync();
            node = await NodeProcess.StartAsync(pg.ConnectionString, cluster, ports);

            foreach (var member in members)
            {
                var expected = sent.Where(kv => kv.Value.Member == member).ToList();
                using var summary = JsonDocument.Parse(await http.GetStringAsync(new Uri(node.Url, $"/v1/programs/default/members/{member}")));
                var balance = summary.RootElement.GetProperty("points").GetProperty("balance").GetInt64();
                Assert.Equal(expected.Sum(kv => (long)decimal.Floor(kv.Value.Amount)), balance);
                Assert.Equal(expected.Sum(kv => (long)decimal.Floor(kv.Value.Amount * 5)), summary.RootElement.GetProperty("growth").GetProperty("lifetime").GetInt64());

                using var ledger = JsonDocument.Parse(await http.GetStringAsync(new Uri(node.Url, $"/v1/programs/default/members/{member}/ledger?limit=1000")));
                var ids = ledger.RootElement.GetProperty("entries").EnumerateArray()
                    .Where(e => e.GetProperty("kind").GetString() == "earn")
                    .Select(e => e.GetProperty("eventId").GetString()!)
                    .ToList();
                Assert.Equal(ids.Count, ids.Distinct().Count()); // none applied twice
                Assert.Equal(expected.Select(kv => kv.Key).Order(), ids.Order()); // none lost
            }
        }
        finally
        {
            await node.DisposeAsync();
        }
    }

    private static async Task<HttpResponseMessage> Post(HttpClient http, Uri node, string body)
    {
        try
        {
            return await http.PostAsync(new Uri(node, "/v1/programs/default/events"), new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        }
    }
}

/// <summary>
/// PostgreSQL away, for one node: the node reaches the database through a <see cref="TcpProxy"/> the test
/// cuts (the server keeps serving everyone else on the machine). Every request that needs the store is a
/// 503 with Retry-After, nothing is half-applied, and the node recovers without a restart.
/// </summary>
[Collection(PostgresCollection.Name), Trait("Category", "Postgres")]
public sealed class OutageTests(PostgresFixture pg)
{
    private static string Event(string member, string id, decimal amount) =>
        $$"""{"eventId":"{{id}}","memberId":"{{member}}","type":"order.paid","orderId":"{{id}}","occurredAt":"2026-11-01T10:00:00+08:00","amount":{{amount.ToString(CultureInfo.InvariantCulture)}}}""";

    private static StringContent Json(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    /// <summary>A 503 problem that says to retry, with a Retry-After of a few seconds.</summary>
    private static async Task AssertUnavailable(HttpResponseMessage response, string what)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{what}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var retryAfter = response.Headers.RetryAfter?.Delta;
        Assert.True(retryAfter is { TotalSeconds: >= 1 and <= 60 }, $"{what}: Retry-After {response.Headers.RetryAfter}");
        using var problem = JsonDocument.Parse(text);
        Assert.Contains("retry", problem.RootElement.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Sends until the answer is not a 503 (the store is back), within a deadline.</summary>
    private static async Task<HttpResponseMessage> UntilServed(Func<Task<HttpResponseMessage>> send)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var response = await send();
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable || deadline.Elapsed > TimeSpan.FromSeconds(60)) return response;
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task A_database_outage_answers_503_with_retry_after_applies_nothing_and_recovers_by_itself()
    {
        var run = "outage-" + Guid.NewGuid().ToString("N")[..8];
        var (active, cold, erased, resident) = ($"{run}-active", $"{run}-cold", $"{run}-erased", $"{run}-resident");
        var (proxy, connectionString) = TcpProxy.ForPostgres(pg.ConnectionString);
        await using var _ = proxy;
        var ports = NodeProcess.Ports.Free();
        var node = await NodeProcess.StartAsync(connectionString, run, ports);
        try
        {
            using var http = new HttpClient { BaseAddress = node.Url, Timeout = TimeSpan.FromSeconds(30) };
            foreach (var m in new[] { active, cold, erased, resident })
            {
                Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/v1/programs/default/events", Json(Event(m, $"{m}-1", 100m)))).StatusCode);
            }
            // A restart, so that no member is in memory; then one is read back in.
            node.Kill();
            await node.DisposeAsync();
            node = await NodeProcess.StartAsync(connectionString, run, ports);
            using var client = new HttpClient { BaseAddress = node.Url, Timeout = TimeSpan.FromSeconds(30) };
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/v1/programs/default/members/{active}")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/v1/programs/default/members/{resident}")).StatusCode);

            proxy.Cut();
            try
            {
                await AssertUnavailable(await client.PostAsync("/v1/programs/default/events", Json(Event(active, $"{active}-2", 50m))), "a write of a member in memory");
                await AssertUnavailable(await client.PostAsync("/v1/programs/default/events", Json(Event(cold, $"{cold}-2", 50m))), "a write of a member not in memory");
                await AssertUnavailable(await client.GetAsync($"/v1/programs/default/members/{cold}"), "a read of a member not in memory");
                await AssertUnavailable(await client.GetAsync($"/v1/programs/default/members/{cold}/benefits/free-shipping"), "a benefit check of a member not in memory");
                await AssertUnavailable(await client.GetAsync($"/v1/programs/default/members/{run}-never-seen"), "a read of a member never seen");
                await AssertUnavailable(await client.PostAsync($"/v1/programs/default/members/{cold}/points/redemptions", Json("""{"redemptionId":"r-1","points":10}""")), "a redemption");
                await AssertUnavailable(await client.DeleteAsync($"/v1/programs/default/members/{erased}"), "an erasure of a member not in memory");
                await AssertUnavailable(await client.DeleteAsync($"/v1/programs/default/members/{active}"), "an erasure of a member in memory");
                await AssertUnavailable(await client.GetAsync($"/v1/programs/default/members/{active}/ledger"), "a statement");
                await AssertUnavailable(await client.GetAsync("/v1/programs/never-defined/members/x"), "a program not in memory");
                // A member whose write failed is rebuilt from the ledger before it answers again: not now.
                await AssertUnavailable(await client.GetAsync($"/v1/programs/default/members/{active}"), "a read of a member whose write failed");
                // A member in memory whose state nothing put in doubt is still served, and so are benefit checks from published facts.
                using var summary = JsonDocument.Parse(await client.GetStringAsync($"/v1/programs/default/members/{resident}"));
                Assert.Equal(100, summary.RootElement.GetProperty("points").GetProperty("balance").GetInt64());
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/v1/programs/default/members/{active}/benefits/free-shipping")).StatusCode);
            }
            finally
            {
                proxy.Restore();
            }

            // The clients retry the same requests; the node recovers without a restart.
            Assert.Equal(HttpStatusCode.OK, (await UntilServed(() => client.PostAsync("/v1/programs/default/events", Json(Event(active, $"{active}-2", 50m))))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await UntilServed(() => client.PostAsync("/v1/programs/default/events", Json(Event(cold, $"{cold}-2", 50m))))).StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await UntilServed(() => client.DeleteAsync($"/v1/programs/default/members/{erased}"))).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await UntilServed(() => client.GetAsync($"/v1/programs/default/members/{erased}"))).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await UntilServed(() => client.GetAsync("/v1/programs/never-defined/members/x"))).StatusCode);
            foreach (var m in new[] { active, cold })
            {
                using var after = JsonDocument.Parse(await client.GetStringAsync($"/v1/programs/default/members/{m}"));
                Assert.Equal(150, after.RootElement.GetProperty("points").GetProperty("balance").GetInt64());
                using var ledger = JsonDocument.Parse(await client.GetStringAsync($"/v1/programs/default/members/{m}/ledger"));
                Assert.Equal(2, ledger.RootElement.GetProperty("entries").EnumerateArray().Count(e => e.GetProperty("kind").GetString() == "earn"));
            }
            // Each 503 is one warning of the engine's, not also an "unhandled exception" error of the framework's.
            Assert.Contains(node.Output.ToArray(), l => l.Contains("answered 503", StringComparison.Ordinal));
            Assert.DoesNotContain(node.Output.ToArray(), l => l.StartsWith("fail: Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware", StringComparison.Ordinal));
        }
        finally
        {
            await node.DisposeAsync();
        }
    }
}

[Collection(PostgresCollection.Name), Trait("Category", "Postgres")]
public sealed class ClusterTests(PostgresFixture pg)
{
    [Fact]
    public async Task Two_silos_and_an_api_client_keep_serving_every_member_when_one_silo_is_killed()
    {
        var cluster = "cluster-" + Guid.NewGuid().ToString("N")[..8];
        await using var silo1 = await NodeProcess.StartAsync(pg.ConnectionString, cluster);
        await using var silo2 = await NodeProcess.StartAsync(pg.ConnectionString, cluster);
        await using var api = await NodeProcess.StartApiAsync(pg.ConnectionString, cluster);
        using var http = new HttpClient { BaseAddress = api.Url, Timeout = TimeSpan.FromSeconds(10) };
        var members = Enumerable.Range(0, 12).Select(i => $"{cluster}-m{i}").ToArray();
        foreach (var m in members)
        {
            var body = $$"""{"eventId":"{{m}}-o","memberId":"{{m}}","type":"order.paid","orderId":"o","occurredAt":"2026-11-01T10:00:00+08:00","amount":100}""";
            var response = await http.PostAsync("/v1/programs/default/events", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        silo1.Kill();

        // Members that lived on the killed silo reactivate on the other from the ledger once membership
        // settles (Orleans declares the killed silo dead); the client keeps serving throughout.
        Assert.Equal(members.Length, await NodeProcess.ServedAgainAsync(http, members, balance: 100));

        // And it takes writes again: a second order per member lands once.
        foreach (var m in members)
        {
            var body = $$"""{"eventId":"{{m}}-o2","memberId":"{{m}}","type":"order.paid","orderId":"o2","occurredAt":"2026-11-02T10:00:00+08:00","amount":50}""";
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/v1/programs/default/events", new StringContent(body, System.Text.Encoding.UTF8, "application/json"))).StatusCode);
            using var doc = JsonDocument.Parse(await http.GetStringAsync($"/v1/programs/default/members/{m}"));
            Assert.Equal(150, doc.RootElement.GetProperty("points").GetProperty("balance").GetInt64());
        }
    }
}

/// <summary>Erasure on a PostgreSQL node leaves no row that names the member.</summary>
[Collection(PostgresCollection.Name), Trait("Category", "Postgres")]
public sealed class DurableErasureTests(PostgresFixture pg)
{
    [Fact]
    public async Task Erasing_a_member_deletes_its_snapshot_row_with_its_key()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var member = $"erase-{run}";
        await using var node = await NodeProcess.StartAsync(pg.ConnectionString, $"erase-{run}", NodeProcess.Ports.Free());
        using var http = new HttpClient { BaseAddress = node.Url, Timeout = TimeSpan.FromSeconds(30) };
        // More rows than a member writes between snapshots: its write takes one.
        var events = Enumerable.Range(0, MemberGrain.SnapshotEvery * 2 + 1).Select(i => $$"""{"eventId":"e{{i}}","memberId":"{{member}}","type":"order.paid","orderId":"o{{i}}","amount":1,"occurredAt":"2026-11-01T10:00:00+08:00"}""");
        var posted = await http.PostAsync("/v1/programs/default/events", new StringContent($$"""{"events":[{{string.Join(",", events)}}]}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        Assert.Equal(1, await SnapshotRows(member));

        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/v1/programs/default/members/{member}")).StatusCode);
        Assert.Equal(0, await SnapshotRows(member));
    }

    private async Task<long> SnapshotRows(string member)
    {
        await using var connection = new Npgsql.NpgsqlConnection(pg.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("select count(*) from orleans_storage where grain_type_string = 'member' and grain_id_extension_string = $1", connection);
        command.Parameters.AddWithValue($"default/{member}");
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
