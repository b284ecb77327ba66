using Orleans.Membership.Domain.Collections;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Members;

namespace Orleans.Membership.Tests.Domain;

/// <summary>
/// A member's caller ids decide what is a duplicate: the table must answer exactly like a plain map, for
/// every version of the state, whatever the versions sharing its storage did.
/// </summary>
public sealed class CallerIdTableTests
{
    [Fact]
    public void Records_come_back_as_they_were_added()
    {
        var hash = MemberRules.Hash("event", "order.paid", "42.00");
        var table = CallerIdTable.Empty
            .Add("evt-1", new CallerIdRecord(LedgerKinds.Earn, hash, 1, null))
            .Add("use-1", new CallerIdRecord(LedgerKinds.BenefitUse, hash, 2, """{"allowed":true}"""))
            .Add("odd-1", new CallerIdRecord("some-future-kind", "not a hash", 3, null))
            .Add("low-1", new CallerIdRecord(LedgerKinds.Redeem, hash.ToLowerInvariant(), 4, null))
            .Add("nul-1", new CallerIdRecord(LedgerKinds.Subscription, null, 5, null));

        Assert.Equal(5, table.Count);
        Assert.Equal(new CallerIdRecord(LedgerKinds.Earn, hash, 1, null), Get(table, "evt-1"));
        Assert.Equal(new CallerIdRecord(LedgerKinds.BenefitUse, hash, 2, """{"allowed":true}"""), Get(table, "use-1"));
        Assert.Equal(new CallerIdRecord("some-future-kind", "not a hash", 3, null), Get(table, "odd-1"));
        Assert.Equal(new CallerIdRecord(LedgerKinds.Redeem, hash.ToLowerInvariant(), 4, null), Get(table, "low-1"));
        Assert.Equal(new CallerIdRecord(LedgerKinds.Subscription, null, 5, null), Get(table, "nul-1"));
        Assert.False(table.TryGetValue("evt-2", out _));
        Assert.False(table.ContainsKey("EVT-1"));
        Assert.Equal(["evt-1", "use-1", "odd-1", "low-1", "nul-1"], table.Select(kv => kv.Key));
        Assert.Equal(table.ToList(), CallerIdTable.From(table).ToList());
    }

    [Fact]
    public void An_id_added_twice_keeps_its_first_record()
    {
        var table = CallerIdTable.Empty.Add("a", new CallerIdRecord(LedgerKinds.Earn, null, 1, null));
        var again = table.Add("a", new CallerIdRecord(LedgerKinds.Redeem, null, 9, "x"));
        Assert.Same(table, again);
        Assert.Equal(1, Get(again, "a").Seq);
    }

    [Fact]
    public void Two_tables_adding_to_the_same_base_keep_their_own_ids()
    {
        var baseTable = CallerIdTable.Empty;
        for (var i = 0; i < 3; i++) baseTable = baseTable.Add($"id-{i}", Earn(i));
        var a = baseTable.Add("only-a", Earn(10)); // writes into the shared storage
        var b = baseTable.Add("only-b", Earn(20)); // must copy: a took the slot

        Assert.False(baseTable.ContainsKey("only-a"));
        Assert.False(baseTable.ContainsKey("only-b"));
        Assert.True(a.ContainsKey("only-a"));
        Assert.False(a.ContainsKey("only-b"));
        Assert.True(b.ContainsKey("only-b"));
        Assert.False(b.ContainsKey("only-a"));
        Assert.Equal(3, baseTable.Count);
        Assert.Equal(["id-0", "id-1", "id-2", "only-b"], b.Select(kv => kv.Key));
    }

    [Fact]
    public void Random_histories_match_plain_maps()
    {
        var random = new Random(11);
        var kinds = new[] { LedgerKinds.Earn, LedgerKinds.Clawback, LedgerKinds.Redeem, LedgerKinds.BenefitUse, "custom" };
        var versions = new List<(CallerIdTable Table, Dictionary<string, CallerIdRecord> Plain)> { (CallerIdTable.Empty, new()) };
        for (var step = 0; step < 4000; step++)
        {
            // Any earlier version may be written again, as a failed write leaves the last durable one.
            var (table, plain) = versions[random.Next(versions.Count)];
            // Few distinct ids, so re-adds and hash-slot collisions between versions are common.
            var id = $"e-{random.Next(600)}";
            var record = new CallerIdRecord(
                kinds[random.Next(kinds.Length)],
                random.Next(4) == 0 ? null : MemberRules.Hash(id, random.Next(3).ToString()),
                step,
                random.Next(5) == 0 ? $"{{\"n\":{step}}}" : null);
            var next = new Dictionary<string, CallerIdRecord>(plain);
            next.TryAdd(id, record);
            versions.Add((table.Add(id, record), next));
            if (versions.Count > 40) versions.RemoveAt(random.Next(versions.Count));

            if (step % 20 != 0) continue;
            foreach (var (t, p) in versions)
            {
                Assert.Equal(p.Count, t.Count);
                foreach (var (key, expected) in p) Assert.Equal(expected, Get(t, key));
                for (var probe = 0; probe < 20; probe++)
                {
                    var other = $"e-{random.Next(600)}";
                    Assert.Equal(p.ContainsKey(other), t.ContainsKey(other));
                }
            }
        }
    }

    [Fact]
    public async Task A_reader_of_an_old_table_never_sees_ids_added_after_it()
    {
        var table = CallerIdTable.Empty;
        for (var i = 0; i < 100; i++) table = table.Add($"old-{i}", Earn(i));
        var old = table;
        var failures = 0;
        using var stop = new CancellationTokenSource();
        var reader = Task.Run(() =>
        {
            var n = 0;
            while (!stop.IsCancellationRequested || n < 1000)
            {
                if (old.ContainsKey($"new-{n % 20_000}") || !old.ContainsKey($"old-{n % 100}")) Interlocked.Increment(ref failures);
                n++;
            }
        });
        for (var i = 0; i < 20_000; i++) table = table.Add($"new-{i}", Earn(i));
        stop.Cancel();
        await reader;
        Assert.Equal(0, failures);
        Assert.Equal(20_100, table.Count);
        Assert.Equal(100, old.Count);
    }

    private static CallerIdRecord Earn(long seq) => new(LedgerKinds.Earn, null, seq, null);

    private static CallerIdRecord Get(CallerIdTable table, string id)
    {
        Assert.True(table.TryGetValue(id, out var record), $"'{id}' not found");
        return record;
    }
}
