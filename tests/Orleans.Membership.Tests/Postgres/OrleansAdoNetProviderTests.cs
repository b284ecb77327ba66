using Orleans.Membership.Tests.Support;
using System.Net;
using Npgsql;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Storage;

namespace Orleans.Membership.Tests.Postgres;

/// <summary>
/// Our SQL against the real Orleans 10.4 ADO.NET providers (invariant Npgsql): a silo joins the
/// cluster through the membership queries, and the grain storage and reminder table it hosts
/// read and write through ours.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class OrleansAdoNetProviderTests(PostgresFixture db) : IAsyncLifetime
{
    private IHost? host;

    public async Task InitializeAsync()
    {
        var clusterId = "provider-tests-" + Guid.NewGuid().ToString("N")[..8];
        host = Host.CreateDefaultBuilder()
            .UseOrleans(silo => silo
                .Configure<ClusterOptions>(o => { o.ClusterId = clusterId; o.ServiceId = "membership-tests"; })
                .ConfigureEndpoints(IPAddress.Loopback, FreePorts.Next(), FreePorts.Next())
                .UseAdoNetClustering(o => { o.Invariant = "Npgsql"; o.ConnectionString = db.ConnectionString; })
                .AddAdoNetGrainStorage("Default", o => { o.Invariant = "Npgsql"; o.ConnectionString = db.ConnectionString; })
                .UseAdoNetReminderService(o => { o.Invariant = "Npgsql"; o.ConnectionString = db.ConnectionString; }))
            .Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync()
    {
        if (host is not null)
        {
            await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
            host.Dispose();
        }
    }

    [Fact]
    public async Task The_silo_joins_through_the_membership_queries()
    {
        var table = host!.Services.GetRequiredService<IMembershipTable>();

        var data = await table.ReadAllAsync(CancellationToken.None);

        var (entry, _) = Assert.Single(data.Members);
        Assert.Equal(SiloStatus.Active, entry.Status);
        Assert.True(data.Version.Version > 0);
        await table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddHours(-1), CancellationToken.None);
        Assert.Single((await table.ReadAllAsync(CancellationToken.None)).Members);
    }

    [Fact]
    public async Task Grain_state_writes_reads_conflicts_and_clears()
    {
        var storage = host!.Services.GetRequiredKeyedService<IGrainStorage>("Default");
        var grainId = GrainId.Create("member", $"p/{Guid.NewGuid():N}"); // the test database is shared by runs
        var state = new GrainState<Dictionary<string, string>>(new() { ["tier"] = "gold" });

        await storage.WriteStateAsync("member", grainId, state);
        var read = new GrainState<Dictionary<string, string>>();
        await storage.ReadStateAsync("member", grainId, read);

        Assert.True(read.RecordExists);
        Assert.NotNull(read.State);
        Assert.Equal("gold", read.State["tier"]);
        Assert.Equal(state.ETag, read.ETag);

        read.State["tier"] = "platinum";
        await storage.WriteStateAsync("member", grainId, read);
        state.State!["tier"] = "stale";
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("member", grainId, state));

        await storage.ClearStateAsync("member", grainId, read);
        var cleared = new GrainState<Dictionary<string, string>>();
        await storage.ReadStateAsync("member", grainId, cleared);
        Assert.False(cleared.RecordExists);
        Assert.Equal(read.ETag, cleared.ETag);
    }

    [Fact]
    public async Task Grain_state_of_a_grain_without_a_string_key_round_trips()
    {
        var storage = host!.Services.GetRequiredKeyedService<IGrainStorage>("Default");
        var grainId = GrainId.Create("sweeper", Guid.NewGuid().ToString("N")); // a Guid key: no key extension
        var state = new GrainState<Dictionary<string, string>>(new() { ["due"] = "2026-12-05" });

        await storage.WriteStateAsync("sweeper", grainId, state);
        var read = new GrainState<Dictionary<string, string>>();
        await storage.ReadStateAsync("sweeper", grainId, read);
        Assert.NotNull(read.State);
        read.State["due"] = "2026-12-06";
        await storage.WriteStateAsync("sweeper", grainId, read);
        var again = new GrainState<Dictionary<string, string>>();
        await storage.ReadStateAsync("sweeper", grainId, again);

        Assert.True(read.RecordExists);
        Assert.NotNull(again.State);
        Assert.Equal("2026-12-06", again.State["due"]);
        Assert.Equal(read.ETag, again.ETag);
    }

    [Theory]
    [InlineData("ReadFromStorageKey")]
    [InlineData("WriteToStorageKey")]
    [InlineData("ClearStorageKey")]
    public async Task A_snapshot_is_found_by_its_whole_key_in_the_index(string queryKey)
    {
        // Members share GrainIdN0/N1 (0, 0): a lookup that cannot use the string key walks every member's row.
        await using var connection = new NpgsqlConnection(db.ConnectionString);
        await connection.OpenAsync();
        string query;
        await using (var text = new NpgsqlCommand("select querytext from orleansquery where querykey = @k", connection))
        {
            text.Parameters.AddWithValue("k", queryKey);
            query = (string)(await text.ExecuteScalarAsync())!;
        }
        await using (var off = new NpgsqlCommand("set enable_seqscan = off", connection)) await off.ExecuteNonQueryAsync();
        await using var explain = new NpgsqlCommand("explain " + query.Trim().TrimEnd(';'), connection);
        foreach (var (name, value) in new (string, object)[]
        {
            ("ServiceId", "membership-tests"), ("GrainTypeString", "member"), ("GrainIdN0", 0L), ("GrainIdN1", 0L),
            ("GrainIdExtensionString", "default/m1"), ("GrainIdHash", 1), ("GrainTypeHash", 2),
            ("PayloadBinary", new byte[] { 1 }), ("GrainStateVersion", 1),
        })
        {
            explain.Parameters.AddWithValue(name, value);
        }
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) plan.Add(reader.GetString(0));
        }

        Assert.Contains(plan, line => line.Contains("Index Cond", StringComparison.Ordinal) && line.Contains("grain_id_extension_string", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Reminders_upsert_read_by_grain_and_range_and_remove()
    {
        var table = host!.Services.GetRequiredService<IReminderTable>();
        var grainId = GrainId.Create("sweeper", "0");
        var entry = new ReminderEntry { GrainId = grainId, ReminderName = "expiry-warnings", StartAt = DateTime.UtcNow, Period = TimeSpan.FromMinutes(5) };

        var etag = await table.UpsertRow(entry) ?? throw new InvalidOperationException("no etag");
        var again = await table.UpsertRow(entry) ?? throw new InvalidOperationException("no etag");

        Assert.NotEqual(etag, again);
        var row = await table.ReadRow(grainId, "expiry-warnings");
        Assert.NotNull(row);
        Assert.Equal(TimeSpan.FromMinutes(5), row.Period);
        Assert.Equal(again, row.ETag);
        Assert.Single((await table.ReadRows(grainId)).Reminders);
        var hash = grainId.GetUniformHashCode();
        Assert.Single((await table.ReadRows(hash - 1, hash)).Reminders);          // plain range
        Assert.Single((await table.ReadRows(unchecked(hash + 1), hash)).Reminders); // wraps around

        Assert.False(await table.RemoveRow(grainId, "expiry-warnings", etag));
        Assert.True(await table.RemoveRow(grainId, "expiry-warnings", again));
        Assert.Empty((await table.ReadRows(grainId)).Reminders);
    }
}
