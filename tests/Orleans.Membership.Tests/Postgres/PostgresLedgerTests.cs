using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Grains;
using Orleans.Membership.Silo.Postgres;
using Orleans.Membership.Tests.Grains;
using Orleans.Membership.Tests.Support;
using Orleans.Serialization;
using Orleans.TestingHost;
using static Orleans.Membership.Tests.Support.MemberHarness;

namespace Orleans.Membership.Tests.Postgres;

/// <summary>
/// A real PostgreSQL: <c>MEMBERSHIP_TEST_PG</c> when set (scripts/test.sh sets it), else started by
/// scripts/postgres-up.sh. The schema is migrated once; tests use their own member keys.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        ConnectionString = Environment.GetEnvironmentVariable("MEMBERSHIP_TEST_PG") ?? await StartServer();
        await SchemaMigrator.MigrateAsync(ConnectionString);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static async Task<string> StartServer()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "scripts", "postgres-up.sh"))) root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("scripts/postgres-up.sh not found above the test folder");
        var start = new ProcessStartInfo("bash", [Path.Combine(root, "scripts", "postgres-up.sh"), "membership_test"]) { RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"scripts/postgres-up.sh failed with exit code {process.ExitCode}");
        return output.Trim().Split('\n')[^1];
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}

[Collection(PostgresCollection.Name), Trait("Category", "Postgres")]
public sealed class PostgresLedgerTests(PostgresFixture pg)
{
    private static string NewKey() => $"test/{Guid.NewGuid():N}";

    private static LedgerEntry Entry(long seq, string? eventId = null, long points = 10) => new()
    {
        Seq = seq,
        Kind = LedgerKinds.Earn,
        EventId = eventId ?? $"e{seq}",
        BodyHash = "H",
        OccurredAt = At("2026-05-01T10:00:00+08:00").AddMinutes(seq),
        RecordedAt = At("2026-11-23T12:00:00+08:00"),
        Points = points,
        Growth = points * 5,
        OrderId = $"o{seq}",
        Amount = points,
        Multiplier = 1.2m,
        BucketExpiresAt = At("2028-01-01T00:00:00+08:00"),
        Draws = [new BucketDraw(1, 3, null)],
        Counters = new Dictionary<string, int> { ["stamps"] = 1 },
    };

    private static string Json(IEnumerable<LedgerEntry> entries) => string.Join("\n", entries.Select(LedgerSamples.Full));

    [Fact]
    public async Task A_ledger_that_cannot_be_reached_fails_with_an_exception_that_crosses_silos()
    {
        // Nothing listens on port 9: the driver's own exception is the cause.
        var unreachable = new Npgsql.NpgsqlConnectionStringBuilder(pg.ConnectionString) { Port = 9, Timeout = 2 }.ConnectionString;
        await using var ledger = new PostgresMemberLedger(unreachable);
        var error = await Assert.ThrowsAsync<LedgerUnavailableException>(() => ledger.ReadAfterAsync(NewKey(), 0));

        // A node answers 503 for a member on another silo only if the error reaches it whole.
        var serializer = new Microsoft.Extensions.DependencyInjection.ServiceCollection().AddSerializer().BuildServiceProvider()
            .GetRequiredService<Orleans.Serialization.Serializer>();
        var arrived = serializer.Deserialize<Exception>(serializer.SerializeToArray<Exception>(error));
        Assert.IsType<LedgerUnavailableException>(arrived);
        Assert.Equal(error.Message, arrived.Message);
        Assert.StartsWith("the ledger database cannot be read: ", arrived.Message);
    }

    [Fact]
    public async Task Migrating_again_changes_nothing()
    {
        Assert.Empty(await SchemaMigrator.MigrateAsync(pg.ConnectionString));
        await using var connection = new NpgsqlConnection(pg.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select count(*) from schema_version where version = 4", connection);
        Assert.Equal(1L, await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_row_a_hung_silo_left_uncommitted_stops_blocking_its_member_when_the_server_ends_that_session()
    {
        // The hung silo opened its session as the engine does (the idle limit shortened for the test), began
        // the member's next row and went silent: the row blocks every other writer of that seq until it ends.
        var key = NewKey();
        var quick = new NpgsqlConnectionStringBuilder(pg.ConnectionString) { Options = "-c idle_in_transaction_session_timeout=1s" };
        await using var hung = new NpgsqlConnection(PostgresSessions.Builder(quick.ConnectionString).ConnectionString);
        await hung.OpenAsync();
        await using var transaction = await hung.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand(
            "insert into member_ledger (member_key, seq, kind, occurred_at, recorded_at, points, growth, entry) values ($1, 1, 'earn', now(), now(), 0, 0, '{}')", hung, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = key });
            await insert.ExecuteNonQueryAsync();
        }

        // The silo that took the member over writes the same seq: it waits for the hung row, then commits.
        await using var ledger = new PostgresMemberLedger(pg.ConnectionString);
        await ledger.AppendAsync(key, [Entry(1, eventId: "after-takeover")]);

        Assert.Equal(["after-takeover"], (await ledger.ReadAfterAsync(key, 0)).Select(e => e.EventId));
    }

    [Fact]
    public async Task The_engines_sessions_carry_keepalives_and_an_idle_transaction_limit_and_the_operators_options_win()
    {
        var given = new NpgsqlConnectionStringBuilder(pg.ConnectionString) { Options = "-c tcp_keepalives_idle=60" };
        await using var connection = new NpgsqlConnection(PostgresSessions.Builder(given.ConnectionString).ConnectionString);
        await connection.OpenAsync();

        Assert.Equal("60", await Show(connection, "tcp_keepalives_idle"));
        Assert.Equal("5", await Show(connection, "tcp_keepalives_interval"));
        Assert.Equal("3", await Show(connection, "tcp_keepalives_count"));
        Assert.Equal("15s", await Show(connection, "idle_in_transaction_session_timeout"));
    }

    private static async Task<string?> Show(NpgsqlConnection connection, string setting)
    {
        await using var command = new NpgsqlCommand($"show {setting}", connection);
        return (string?)await command.ExecuteScalarAsync();
    }

    [Fact]
    public async Task Entries_round_trip_page_newest_first_and_erase()
    {
        await using var ledger = new PostgresMemberLedger(pg.ConnectionString);
        var key = NewKey();
        var entries = Enumerable.Range(1, 7).Select(i => Entry(i)).ToList();
        await ledger.AppendAsync(key, entries[..4]);
        await ledger.AppendAsync(key, entries[4..]);

        Assert.Equal(Json(entries), Json(await ledger.ReadAfterAsync(key, 0)));
        Assert.Equal(Json(entries[3..]), Json(await ledger.ReadAfterAsync(key, 3)));
        Assert.Equal([7L, 6, 5], (await ledger.ReadPageAsync(key, null, 3)).Select(e => e.Seq));
        Assert.Equal([4L, 3, 2], (await ledger.ReadPageAsync(key, 5, 3)).Select(e => e.Seq));

        await ledger.EraseAsync(key);
        Assert.Empty(await ledger.ReadAfterAsync(key, 0));
    }

    [Fact]
    public async Task A_member_read_back_from_the_database_names_its_changes_as_when_they_were_written()
    {
        await using var ledger = new PostgresMemberLedger(pg.ConnectionString);
        var key = NewKey();
        // Recorded between two microseconds: the row's timestamp column keeps less, the entry itself keeps it all.
        var written = new[]
        {
            Entry(1) with { RecordedAt = At("2026-11-23T12:00:00+08:00").AddTicks(1_234_567) },
            new LedgerEntry { Seq = 2, Kind = LedgerKinds.Tier, TierFrom = "base", TierTo = "silver", OccurredAt = At("2026-11-23T12:00:00+08:00") },
        };
        await ledger.AppendAsync(key, written);

        var read = await ledger.ReadAfterAsync(key, 0);
        Assert.Equal(
            MemberChanges.From("p", "m", MemberState.Replay(written), written)!.Select(c => c.Id),
            MemberChanges.From("p", "m", MemberState.Replay(read), read)!.Select(c => c.Id));
    }

    [Fact]
    public async Task An_orders_earn_and_clawback_entries_are_found_by_its_id_in_seq_order()
    {
        await using var ledger = new PostgresMemberLedger(pg.ConnectionString);
        var key = NewKey();
        var refund = Entry(4) with { Kind = LedgerKinds.Clawback, OrderId = "o2", OrderSeq = 2, Points = -3 };
        var redeem = Entry(5) with { Kind = LedgerKinds.Redeem, OrderId = "o2" };
        await ledger.AppendAsync(key, [Entry(1), Entry(2), Entry(3), refund, redeem]);
        await ledger.AppendAsync(NewKey(), [Entry(1), Entry(2)]);

        Assert.Equal([2L, 4], (await ledger.FindOrdersAsync(key, ["o2", "o9"])).Select(e => e.Seq));
        Assert.Equal(2, (await ledger.FindOrdersAsync(key, ["o2"]))[1].OrderSeq);
        Assert.Empty(await ledger.FindOrdersAsync(key, []));
    }

    [Fact]
    public async Task Every_field_survives_both_write_paths_rows_leave_defaults_out_and_full_rows_still_read()
    {
        await using var grouped = new PostgresMemberLedger(pg.ConnectionString);
        await using var single = new PostgresMemberLedger(pg.ConnectionString, new LedgerWriterOptions { GroupCommit = false });
        var key = NewKey();
        // Every field set; caller ids differ, as the database requires within a member.
        static LedgerEntry Populated(long seq) => LedgerSamples.Populated(seq) with { EventId = $"event-{seq}" };
        await grouped.AppendAsync(key, [Populated(1), new LedgerEntry { Seq = 2, Kind = LedgerKinds.Tier }]);
        await single.AppendAsync(key, [Populated(3)]);

        // A row as versions before the compact form wrote it: every field, nulls included.
        await using var connection = new NpgsqlConnection(pg.ConnectionString);
        await connection.OpenAsync();
        var old = Populated(4);
        await using (var insert = new NpgsqlCommand(
            "insert into member_ledger (member_key, seq, event_id, kind, occurred_at, recorded_at, points, growth, entry) values ($1, 4, $2, $3, $4, $4, 0, 0, $5::jsonb)", connection))
        {
            insert.Parameters.AddWithValue(key);
            insert.Parameters.AddWithValue(old.EventId!);
            insert.Parameters.AddWithValue(old.Kind);
            insert.Parameters.AddWithValue(old.OccurredAt.ToUniversalTime());
            insert.Parameters.AddWithValue(LedgerSamples.Full(old));
            await insert.ExecuteNonQueryAsync();
        }

        var read = await grouped.ReadAfterAsync(key, 0);
        Assert.Equal(
            new[] { Populated(1), new LedgerEntry { Seq = 2, Kind = LedgerKinds.Tier }, Populated(3), old }.Select(LedgerSamples.Full),
            read.Select(LedgerSamples.Full));

        // The engine's own rows hold only what is set: the tier entry is its kind and seq.
        await using var stored = new NpgsqlCommand("select entry::text from member_ledger where member_key = $1 and seq = 2", connection);
        stored.Parameters.AddWithValue(key);
        using var doc = JsonDocument.Parse((string)(await stored.ExecuteScalarAsync())!);
        Assert.Equal(["kind", "seq"], doc.RootElement.EnumerateObject().Select(p => p.Name).Order());
    }

    [Fact]
    public async Task Concurrent_appends_are_group_committed_in_fewer_round_trips_and_all_durable()
    {
        var keys = Enumerable.Range(0, 200).Select(_ => NewKey()).ToList();
        await using (var ledger = new PostgresMemberLedger(pg.ConnectionString, new LedgerWriterOptions { MaxDelay = TimeSpan.FromMilliseconds(5) }))
        {
            await Task.WhenAll(keys.Select(k => Task.Run(() => ledger.AppendAsync(k, [Entry(1), Entry(2)]))));
            Assert.Equal(200, ledger.Appends);
            Assert.True(ledger.RoundTrips < 200, $"{ledger.RoundTrips} round trips for 200 appends");
        }
        // A new writer (new connections) reads every row back: they were committed before the acknowledgements.
        await using var reader = new PostgresMemberLedger(pg.ConnectionString);
        foreach (var k in keys) Assert.Equal(2, (await reader.ReadAfterAsync(k, 0)).Count);
    }

    [Fact]
    public async Task A_duplicate_caller_id_fails_only_its_own_append()
    {
        await using var ledger = new PostgresMemberLedger(pg.ConnectionString, new LedgerWriterOptions { MaxDelay = TimeSpan.FromMilliseconds(20) });
        var dupKey = NewKey();
        await ledger.AppendAsync(dupKey, [Entry(1, "same-id")]);
        var others = Enumerable.Range(0, 20).Select(_ => NewKey()).ToList();
        var duplicate = ledger.AppendAsync(dupKey, [Entry(2, "same-id")]);
        var fine = others.Select(k => ledger.AppendAsync(k, [Entry(1)])).ToList();

        await Assert.ThrowsAsync<LedgerUnavailableException>(() => duplicate);
        await Task.WhenAll(fine);
        Assert.Single(await ledger.ReadAfterAsync(dupKey, 0));
        foreach (var k in others) Assert.Single(await ledger.ReadAfterAsync(k, 0));
    }

    [Fact]
    public async Task One_write_per_append_when_group_commit_is_off()
    {
        await using var ledger = new PostgresMemberLedger(pg.ConnectionString, new LedgerWriterOptions { GroupCommit = false });
        await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => ledger.AppendAsync(NewKey(), [Entry(1)])));
        Assert.Equal(30, ledger.RoundTrips);
    }

    [Fact]
    public async Task An_unreachable_database_fails_the_caller_instead_of_hanging()
    {
        var unreachable = new NpgsqlConnectionStringBuilder(pg.ConnectionString) { Port = 1 }.ConnectionString;
        await using var ledger = new PostgresMemberLedger(unreachable);
        await Assert.ThrowsAsync<LedgerUnavailableException>(() => ledger.AppendAsync(NewKey(), [Entry(1)]));
        await Assert.ThrowsAsync<LedgerUnavailableException>(() => ledger.ReadAfterAsync(NewKey(), 0));
    }

    [Fact]
    public async Task A_member_rebuilt_by_a_new_cluster_from_the_postgres_ledger_is_identical()
    {
        var member = $"pg-{Guid.NewGuid():N}";
        MemberSummary? before;
        string ledgerBefore;
        await using (var first = await Cluster.StartAsync(pg.ConnectionString))
        {
            var grain = first.Grains.GetGrain<IMemberGrain>(MemberKeys.Of("default", member));
            await grain.Enroll(new EnrollRequest("06-15"));
            await grain.ApplyEvents(
            [
                new ScoringEvent("o1-paid", "order.paid", At("2026-06-01T10:00:00+08:00"), "o1", 1000m, null),
                new ScoringEvent("o2-paid", "order.paid", At("2025-03-01T10:00:00+08:00"), "o2", 50m, null),
                new ScoringEvent("o1-refund", "order.refunded", At("2026-06-02T10:00:00+08:00"), "o1", 100m, null),
            ]);
            await grain.Redeem(new RedemptionRequest("r1", 70, null));
            await grain.UseBenefit(new BenefitUseRequest("free-shipping", "u1", null));
            before = await grain.GetSummary();
            ledgerBefore = Json((await grain.GetLedger(1000, null))!.Entries);
        }
        await using var second = await Cluster.StartAsync(pg.ConnectionString);
        var again = second.Grains.GetGrain<IMemberGrain>(MemberKeys.Of("default", member));
        Assert.Equal(before, await again.GetSummary(), SummaryComparer.Instance);
        Assert.Equal(ledgerBefore, Json((await again.GetLedger(1000, null))!.Entries));
        Assert.Equal(WriteStatus.Replayed, (await again.Redeem(new RedemptionRequest("r1", 70, null))).Status);
        // The member keeps no orders: a refund reads its order from the ledger, with the refund before it.
        var refunds = await again.ApplyEvents(
        [
            new ScoringEvent("o1-refund-2", "order.refunded", At("2026-06-03T10:00:00+08:00"), "o1", 800m, null),
            new ScoringEvent("o1-refund-3", "order.refunded", At("2026-06-04T10:00:00+08:00"), "o1", 100.01m, null),
        ]);
        Assert.Equal([EventStatus.Accepted, EventStatus.Rejected], refunds.Select(r => r.Status));
        Assert.Equal("refund-exceeds", refunds[1].Reason);
    }

    /// <summary>A one-silo cluster whose ledger is PostgreSQL, with a fixed clock.</summary>
    private sealed class Cluster : IAsyncDisposable
    {
        private static readonly ManualClock Clock = new(At("2026-11-23T12:00:00+08:00"));
        private InProcessTestCluster _cluster = null!;
        public IGrainFactory Grains => _cluster.Client;

        public static async Task<Cluster> StartAsync(string connectionString)
        {
            var builder = new InProcessTestClusterBuilder(1);
            builder.ConfigureSilo((_, silo) =>
            {
                silo.AddMemoryGrainStorage(StorageNames.Programs);
                silo.AddMemoryGrainStorage(StorageNames.Snapshots);
            });
            builder.ConfigureSiloHost((_, host) =>
            {
                host.Services.AddMemberGrainServices(_ => new PostgresMemberLedger(connectionString), Clock, _ => new PostgresDueIndex(connectionString));
            });
            var cluster = new Cluster { _cluster = builder.Build() };
            await cluster._cluster.DeployAsync();
            await cluster.Grains.GetGrain<IProgramGrain>("default").Ensure(TestPrograms.Json("default"));
            return cluster;
        }

        public async ValueTask DisposeAsync() => await _cluster.DisposeAsync();
    }
}
