using Microsoft.Extensions.DependencyInjection;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Grains;
using Orleans.Membership.Tests.Support;
using Orleans.Streams;
using Orleans.TestingHost;
using static Orleans.Membership.Tests.Support.MemberHarness;

namespace Orleans.Membership.Tests.Grains;

/// <summary>Two in-process silos sharing one ledger and one clock.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    /// <summary>Shared by every silo of the cluster, as PostgreSQL would be; the tests switch it off.</summary>
    public static readonly TestLedger Ledger = new();
    public static readonly ManualClock Clock = new(At("2026-11-23T12:00:00+08:00"));
    public static readonly InMemoryDueIndex DueIndex = new();

    /// <summary>Completed when a call of that method reaches that grain (the test adds the entry first).</summary>
    public static readonly System.Collections.Concurrent.ConcurrentDictionary<(string GrainKey, string Method), TaskCompletionSource> Entered = new();

    public static Task WhenEntered(string grainKey, string method)
        => Entered.GetOrAdd((grainKey, method), _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public IGrainFactory Grains => Cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(StorageNames.Programs);
            silo.AddMemoryGrainStorage(StorageNames.Snapshots);
            silo.AddBoundedMemoryStreams(ScoringStreams.Provider, new StreamBackpressureOptions(), s => s.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly));
            silo.AddIncomingGrainCallFilter(async context =>
            {
                if (Entered.TryRemove((context.TargetId.Key.ToString()!, context.MethodName), out var entered)) entered.SetResult();
                await context.Invoke();
            });
        });
        builder.ConfigureClient(client =>
            client.AddMemoryStreams(ScoringStreams.Provider, s => s.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly)));
        builder.ConfigureSiloHost((_, host) =>
        {
            host.Services.AddMemberGrainServices(_ => Ledger, Clock, _ => DueIndex);
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        await Grains.GetGrain<IProgramGrain>("default").Ensure(TestPrograms.Json("default"));
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}

[Collection(ClusterCollection.Name)]
public sealed class MemberGrainClusterTests(ClusterFixture fixture)
{
    private static int s_members;
    private IMemberGrain NewMember() => fixture.Grains.GetGrain<IMemberGrain>(MemberKeys.Of("default", $"g{Interlocked.Increment(ref s_members)}"));

    private static ScoringEvent Paid(string orderId, decimal amount, string at) => new($"{orderId}-paid", "order.paid", At(at), orderId, amount, null);

    [Fact]
    public async Task A_member_refuses_what_a_producer_outside_http_sends_by_the_same_rules()
    {
        // Orleans stream producers hand the grain events without the HTTP API's parser in front.
        var member = NewMember();
        var outcomes = await member.ApplyEvents(
        [
            new ScoringEvent("year-1", "sign-in", default(DateTimeOffset), null, null, null),
            new ScoringEvent("share-amount", "share", null, null, -5m, null),
        ]);
        Assert.Equal(
            [(EventStatus.Rejected, "occurredAt", "must be 1970-01-01T00:00:00Z or later"), (EventStatus.Rejected, "amount", "must be greater than 0")],
            outcomes.Select(o => (o.Status, o.Field, o.Error)));
    }

    [Fact]
    public async Task A_member_reference_from_cached_type_names_is_the_one_GetGrain_makes()
    {
        var key = MemberKeys.Of("default", $"g{Interlocked.Increment(ref s_members)}");
        var plain = fixture.Grains.GetGrain<IMemberGrain>(key);
        var cached = fixture.Grains.Member(key);
        Assert.Equal(plain.GetGrainId(), cached.GetGrainId());
        Assert.Equal(((GrainReference)(object)plain).InterfaceType, ((GrainReference)(object)cached).InterfaceType);
        // One activation behind both: a write through one is read through the other.
        Assert.All(await cached.ApplyEvents([Paid("o1", 100m, "2026-05-01T10:00:00+08:00")]), o => Assert.Equal(EventStatus.Accepted, o.Status));
        var growth = (await plain.GetSummary())!.Growth.Lifetime;
        Assert.True(growth > 0, "the order must have earned growth");
        Assert.Equal(growth, (await cached.GetSummary())!.Growth.Lifetime);
    }

    [Fact]
    public async Task A_replayed_batch_is_all_duplicates_and_changes_nothing()
    {
        var member = NewMember();
        ScoringEvent[] batch = [Paid("o1", 100m, "2026-05-01T10:00:00+08:00"), new("s1", "sign-in", At("2026-05-01T10:00:00+08:00"), null, null, null)];
        Assert.All(await member.ApplyEvents(batch), o => Assert.Equal(EventStatus.Accepted, o.Status));
        var before = await member.GetSummary();
        var ledgerBefore = (await member.GetLedger(100, null))!.Entries.Count;

        Assert.All(await member.ApplyEvents(batch), o => Assert.Equal(EventStatus.Duplicate, o.Status));
        Assert.Equal(before, await member.GetSummary(), SummaryComparer.Instance);
        Assert.Equal(ledgerBefore, (await member.GetLedger(100, null))!.Entries.Count);
    }

    [Fact]
    public async Task Parallel_redemptions_never_overdraw()
    {
        var member = NewMember();
        await member.ApplyEvents([Paid("o1", 100m, "2026-05-01T10:00:00+08:00")]);
        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => member.Redeem(new RedemptionRequest($"r{i}", 10, null))));
        Assert.Equal(10, results.Count(r => r.Status == WriteStatus.Applied));
        Assert.All(results.Where(r => r.Status != WriteStatus.Applied), r => Assert.Equal("balance", r.Reason));
        Assert.Equal(0, (await member.GetSummary())!.Points.Balance);
    }

    [Fact]
    public async Task Parallel_benefit_uses_never_exceed_the_quota()
    {
        var member = NewMember();
        await member.ApplyEvents([Paid("o1", 200m, "2026-11-01T10:00:00+08:00")]); // silver: 2 a month
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => member.UseBenefit(new BenefitUseRequest("free-shipping", $"u{i}", null))));
        Assert.Equal(2, results.Count(r => r.Status == WriteStatus.Applied));
        Assert.Equal(0, (await member.CheckBenefit("free-shipping"))!.Remaining);
    }

    [Fact]
    public async Task A_reactivated_member_is_rebuilt_from_its_ledger()
    {
        var member = NewMember();
        await member.Enroll(new EnrollRequest("06-15"));
        await member.ApplyEvents([Paid("o1", 1000m, "2026-06-01T10:00:00+08:00"), Paid("o2", 50m, "2026-06-02T10:00:00+08:00")]);
        await member.ApplyEvents([new("rf", "order.refunded", At("2026-06-03T10:00:00+08:00"), "o2", 20m, null)]);
        await member.Redeem(new RedemptionRequest("r1", 30, null));
        await member.UseBenefit(new BenefitUseRequest("free-shipping", "u1", null));
        var before = await member.GetSummary();
        var checksBefore = await member.CheckBenefits();

        await fixture.Cluster.DeactivateAsync(member.GetGrainId());

        Assert.Equal(before, await member.GetSummary(), SummaryComparer.Instance);
        Assert.Equal(checksBefore.Select(c => (c.Code, c.Entitled, c.Remaining, c.Value)), (await member.CheckBenefits()).Select(c => (c.Code, c.Entitled, c.Remaining, c.Value)));
        // The id is still known after reactivation: the ledger is the authority.
        Assert.Equal(WriteStatus.Replayed, (await member.Redeem(new RedemptionRequest("r1", 30, null))).Status);
    }

    [Fact]
    public async Task A_long_history_reactivates_from_a_snapshot_plus_the_rows_after_it()
    {
        var member = NewMember();
        var snapshotAfter = MemberGrain.SnapshotAfter(member.GetPrimaryKeyString());
        var batch = Enumerable.Range(0, snapshotAfter + 40)
            .Select(i => Paid($"o{i}", 10m + i, "2026-05-01T10:00:00+08:00"))
            .ToArray();
        await member.ApplyEvents(batch[..200]);
        await member.ApplyEvents(batch[200..]); // passes the member's snapshot count: a snapshot is taken
        await member.Redeem(new RedemptionRequest("r1", 25, null));
        var before = await member.GetSummary();

        await fixture.Cluster.DeactivateAsync(member.GetGrainId());

        Assert.Equal(before, await member.GetSummary(), SummaryComparer.Instance);
        Assert.True(ClusterFixture.Ledger.LastReadAfter[member.GetPrimaryKeyString()] >= snapshotAfter,
            "the activation replayed the whole ledger instead of starting from the snapshot");
        Assert.Equal(WriteStatus.Replayed, (await member.Redeem(new RedemptionRequest("r1", 25, null))).Status);
        Assert.Equal(EventStatus.Duplicate, (await member.ApplyEvents([batch[3]]))[0].Status);
    }

    [Fact]
    public async Task A_write_whose_append_fails_leaves_the_member_as_it_was()
    {
        var member = NewMember();
        await member.ApplyEvents([Paid("o1", 100m, "2026-05-01T10:00:00+08:00")]);
        var before = await member.GetSummary();
        ClusterFixture.Ledger.Down = true;
        try
        {
            await Assert.ThrowsAsync<LedgerUnavailableException>(() => member.Redeem(new RedemptionRequest("r1", 50, null)));
            await Assert.ThrowsAsync<LedgerUnavailableException>(() => member.ApplyEvents([Paid("o2", 100m, "2026-05-02T10:00:00+08:00")]));
        }
        finally
        {
            ClusterFixture.Ledger.Down = false;
        }
        Assert.Equal(before, await member.GetSummary(), SummaryComparer.Instance);
        // Nothing used up the ids: the same requests now apply.
        Assert.Equal(WriteStatus.Applied, (await member.Redeem(new RedemptionRequest("r1", 50, null))).Status);
        Assert.Equal(EventStatus.Accepted, (await member.ApplyEvents([Paid("o2", 100m, "2026-05-02T10:00:00+08:00")]))[0].Status);
        Assert.Equal(150, (await member.GetSummary())!.Points.Balance);
    }

    [Fact]
    public async Task An_append_whose_outcome_is_unknown_leaves_the_member_as_the_ledger_says()
    {
        // The ledger commits the redemption, then the acknowledgement is lost: the caller sees a failure.
        var member = NewMember();
        var key = member.GetPrimaryKeyString();
        await member.ApplyEvents([Paid("o1", 100m, "2026-05-01T10:00:00+08:00")]);
        ClusterFixture.Ledger.CommitThenFail(key);
        await Assert.ThrowsAsync<LedgerUnavailableException>(() => member.Redeem(new RedemptionRequest("r1", 30, null)));

        // The member is rebuilt from the ledger before anything else: the redemption happened.
        Assert.Equal(70, (await member.GetSummary())!.Points.Balance);
        // A retry is the first answer again, and later writes continue the ledger's sequence.
        var retry = await member.Redeem(new RedemptionRequest("r1", 30, null));
        Assert.Equal((WriteStatus.Replayed, 70L), (retry.Status, retry.Value!.Balance));
        Assert.Equal(EventStatus.Accepted, (await member.ApplyEvents([Paid("o2", 50m, "2026-05-02T10:00:00+08:00")]))[0].Status);
        Assert.Equal(WriteStatus.Applied, (await member.Redeem(new RedemptionRequest("r2", 20, null))).Status);
        var ledger = await ClusterFixture.Ledger.ReadAfterAsync(key, 0);
        Assert.Equal(Enumerable.Range(1, ledger.Count).Select(i => (long)i), ledger.Select(e => e.Seq));
        Assert.Equal(100, (await member.GetSummary())!.Points.Balance);
        Assert.Equal(100, ledger.Sum(e => e.Points));
    }

    [Fact]
    public async Task A_read_during_a_write_answers_only_what_is_durable()
    {
        var member = NewMember();
        var key = member.GetPrimaryKeyString();
        await member.ApplyEvents([Paid("o1", 100m, "2026-05-01T10:00:00+08:00")]);
        var before = await member.GetSummary();

        // The write's entries are in the member's state while its append hangs; then the append fails.
        var held = ClusterFixture.Ledger.Hold(key);
        var write = member.ApplyEvents([Paid("o2", 100m, "2026-05-02T10:00:00+08:00")]);
        await held.Arrived.Task;
        var entered = ClusterFixture.WhenEntered(key, nameof(IMemberGrain.GetSummary));
        var read = member.GetSummary();
        await entered;
        held.Fail();
        await Assert.ThrowsAsync<LedgerUnavailableException>(() => write);
        Assert.Equal(before, await read, SummaryComparer.Instance);

        // The same while an append that succeeds hangs: the read answers once it is durable, with it.
        held = ClusterFixture.Ledger.Hold(key);
        write = member.ApplyEvents([Paid("o2", 100m, "2026-05-02T10:00:00+08:00")]);
        await held.Arrived.Task;
        entered = ClusterFixture.WhenEntered(key, nameof(IMemberGrain.GetSummary));
        read = member.GetSummary();
        await entered;
        held.Release();
        Assert.Equal(EventStatus.Accepted, (await write)[0].Status);
        Assert.Equal(200, (await read)!.Points.Balance);
    }

    [Fact]
    public async Task Reads_of_an_unknown_member_do_not_enroll_it()
    {
        var member = NewMember();
        Assert.Null(await member.GetSummary());
        var check = await member.CheckBenefit("free-shipping");
        Assert.False(check!.Entitled);
        Assert.Null(await member.GetLedger(10, null));
        Assert.Null(await member.GetSummary());
    }

    [Fact]
    public async Task Erasure_removes_the_member_and_its_ledger()
    {
        var member = NewMember();
        await member.Enroll(new EnrollRequest("01-02"));
        await member.ApplyEvents([Paid("o1", 100m, "2026-05-01T10:00:00+08:00")]);
        await member.Erase();
        Assert.Null(await member.GetSummary());
        Assert.Empty(await ClusterFixture.Ledger.ReadAfterAsync(member.GetPrimaryKeyString(), 0));
    }
}

/// <summary>Summaries compared by value (their lists and dictionaries included).</summary>
public sealed class SummaryComparer : IEqualityComparer<MemberSummary?>
{
    public static readonly SummaryComparer Instance = new();
    public bool Equals(MemberSummary? x, MemberSummary? y)
        => System.Text.Json.JsonSerializer.Serialize(x, Orleans.Membership.Domain.DomainJson.Default.MemberSummary!)
           == System.Text.Json.JsonSerializer.Serialize(y, Orleans.Membership.Domain.DomainJson.Default.MemberSummary!);
    public int GetHashCode(MemberSummary? obj) => 0;
}
