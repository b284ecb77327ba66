using Orleans.Membership.Grains;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Silo.Postgres;
using static Orleans.Membership.Tests.Support.MemberHarness;

namespace Orleans.Membership.Tests.Postgres;

/// <summary>The due-time index in a real PostgreSQL, against the in-memory one the embedded node uses.</summary>
[Collection(PostgresCollection.Name), Trait("Category", "Postgres")]
public sealed class PostgresDueIndexTests(PostgresFixture pg)
{
    public static TheoryData<string> Indexes => ["postgres", "memory"];

    private IDueIndex Index(string kind) => kind == "postgres" ? new PostgresDueIndex(pg.ConnectionString) : new InMemoryDueIndex();

    private static string NewKey() => $"due/{Guid.NewGuid():N}";

    [Theory, MemberData(nameof(Indexes))]
    public async Task Arming_keeps_the_earliest_time_and_setting_replaces_it(string kind)
    {
        var index = Index(kind);
        var key = NewKey();
        var shard = DueShards.Of(key);
        var t = At("2027-11-01T00:00:00+08:00");

        await index.ArmAsync(key, t.AddDays(10));
        await index.ArmAsync(key, t);
        await index.ArmAsync(key, t.AddDays(5));
        Assert.DoesNotContain(key, await index.DueAsync(shard, t.AddSeconds(-1), 10_000));
        Assert.Contains(key, await index.DueAsync(shard, t, 10_000));
        Assert.DoesNotContain(key, await index.DueAsync((shard + 1) % DueShards.Count, t.AddYears(5), 10_000));

        await index.SetAsync(key, t.AddDays(30));
        Assert.DoesNotContain(key, await index.DueAsync(shard, t.AddDays(29), 10_000));
        await index.SetAsync(key, null);
        Assert.DoesNotContain(key, await index.DueAsync(shard, t.AddYears(5), 10_000));
    }

    [Theory, MemberData(nameof(Indexes))]
    public async Task Members_armed_together_each_keep_their_earliest_time(string kind)
    {
        var index = Index(kind);
        var t = At("2027-11-01T00:00:00+08:00");
        var keys = Enumerable.Range(0, 50).Select(_ => NewKey()).ToArray();

        // Each member armed three times at once, the earliest in the middle: the writes of many members (and of one member twice) coincide.
        await Task.WhenAll(keys.SelectMany((key, i) => new[]
        {
            index.ArmAsync(key, t.AddDays(1 + i)), index.ArmAsync(key, t.AddMinutes(i)), index.ArmAsync(key, t.AddDays(60)),
        }));

        for (var i = 0; i < keys.Length; i++)
        {
            Assert.DoesNotContain(keys[i], await index.DueAsync(DueShards.Of(keys[i]), t.AddMinutes(i).AddSeconds(-1), 100_000));
            Assert.Contains(keys[i], await index.DueAsync(DueShards.Of(keys[i]), t.AddMinutes(i), 100_000));
        }
    }

    [Theory, MemberData(nameof(Indexes))]
    public async Task A_notice_is_marked_fired_once_and_erasure_forgets_the_member(string kind)
    {
        var index = Index(kind);
        var key = NewKey();
        Assert.False(await index.HasFiredAsync(key, "bucket:7"));
        await index.MarkFiredAsync(key, "bucket:7");
        await index.MarkFiredAsync(key, "bucket:7");
        Assert.True(await index.HasFiredAsync(key, "bucket:7"));
        Assert.False(await index.HasFiredAsync(key, "bucket:8"));
        await index.ArmAsync(key, At("2027-11-01T00:00:00+08:00"));

        await index.EraseAsync(key);
        Assert.False(await index.HasFiredAsync(key, "bucket:7"));
        Assert.DoesNotContain(key, await index.DueAsync(DueShards.Of(key), At("2030-01-01T00:00:00+08:00"), 100_000));
    }
}
