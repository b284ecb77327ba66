using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Npgsql;

namespace Orleans.Membership.Tests.Postgres;

/// <summary>
/// Silos on two addresses (as on two hosts: 127.0.0.2 and 127.0.0.3, the same ports on each) and an API
/// client on 127.0.0.1, clustered through PostgreSQL: the command lines of docs/topologies.md.
/// </summary>
[Collection(PostgresCollection.Name), Trait("Category", "Postgres")]
public sealed class ClusterAcrossAddressesTests(PostgresFixture pg)
{
    [Fact]
    public async Task Silos_advertised_on_two_addresses_form_one_cluster_and_survive_a_SIGKILL()
    {
        var cluster = "hosts-" + Guid.NewGuid().ToString("N")[..8];
        var ports = NodeProcess.Ports.Free();
        await using var silo2 = await NodeProcess.StartAsync(pg.ConnectionString, cluster, ports, address: "127.0.0.2");
        await using var silo3 = await NodeProcess.StartAsync(pg.ConnectionString, cluster, ports, address: "127.0.0.3");
        await using var api = await NodeProcess.StartApiAsync(pg.ConnectionString, cluster);
        Assert.Equal("127.0.0.1", api.Url.Host);
        // The node's own Information lines reach its console (the console logger writes them on a thread of its own).
        var logged = Stopwatch.StartNew();
        while (!silo2.Output.Any(line => line.Contains("PostgreSQL mode: every acknowledged change is committed", StringComparison.Ordinal)) && logged.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(50);
        Assert.Contains(silo2.Output, line => line.Contains("PostgreSQL mode: every acknowledged change is committed", StringComparison.Ordinal));

        // Orleans' membership table lists each silo at its advertised address, both active.
        var rows = await MembershipRows(cluster);
        Assert.Equal([("127.0.0.2", ports.Silo, ports.Gateway, 3), ("127.0.0.3", ports.Silo, ports.Gateway, 3)], rows);

        using var http = new HttpClient { BaseAddress = api.Url, Timeout = TimeSpan.FromSeconds(10) };
        var members = Enumerable.Range(0, 12).Select(i => $"{cluster}-m{i}").ToArray();
        foreach (var m in members)
        {
            var body = $$"""{"eventId":"{{m}}-o","memberId":"{{m}}","type":"order.paid","orderId":"o","occurredAt":"2026-11-01T10:00:00+08:00","amount":100}""";
            var response = await http.PostAsync("/v1/programs/default/events", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        // Each silo serves its own HTTP on its own address too.
        using (var direct = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
        {
            var summary = await direct.GetAsync(new Uri(silo3.Url, $"/v1/programs/default/members/{members[0]}"));
            Assert.Equal(HttpStatusCode.OK, summary.StatusCode);
        }

        silo2.Kill();

        // Every member written before is served again through the API client, from the ledger, by the silo left.
        Assert.Equal(members.Length, await NodeProcess.ServedAgainAsync(http, members, balance: 100));
    }

    private async Task<(string Address, int Port, int Gateway, int Status)[]> MembershipRows(string cluster)
    {
        await using var connection = new NpgsqlConnection(pg.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select address, port, proxy_port, status from orleans_membership where deployment_id = @c order by address", connection);
        command.Parameters.AddWithValue("c", cluster);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, int, int, int)>();
        while (await reader.ReadAsync()) rows.Add((reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3)));
        return [.. rows];
    }
}
