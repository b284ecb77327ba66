using Orleans.Membership.Domain.Collections;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Members;

namespace Orleans.Membership.Tests.Domain;

/// <summary>
/// A member's caller ids decide what is a duplicate: the table must answer exactly like a plain map.
/// </summary>
public sealed class CallerIdTableTests
{
    [Fact]
    public void Records_come_back_as_they_were_added()
    {
        var hash = MemberRules.Hash("event", "order.paid", "42.00");
        var table = new CallerIdTable();
        table.Add("evt-1", new CallerIdRecord(LedgerKinds.Earn, hash, 1, null));
        table.Add("use-1", new CallerIdRecord(LedgerKinds.BenefitUse, hash, 2, """{"allowed":true}"""));
        table.Add("odd-1", new CallerIdRecord("some-future-kind", "not a hash", 3, null));
        table.Add("low-1", new CallerIdRecord(LedgerKinds.Redeem, hash.ToLowerInvariant(), 4, null));
        table.Add("nul-1", new CallerIdRecord(LedgerKinds.Subscription, null, 5, null));

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
        Assert.Equal(table.ToList(), table.Copy().ToList());
    }

    [Fact]
    public void An_id_added_twice_keeps_its_first_record()
    {
        var table = new CallerIdTable();
        Assert.True(table.Add("a", new CallerIdRecord(LedgerKinds.Earn, null, 1, null)));
        Assert.False(table.Add("a", new CallerIdRecord(LedgerKinds.Redeem, null, 9, "x")));
        Assert.Equal(1, table.Count);
        Assert.Equal(new CallerIdRecord(LedgerKinds.Earn, null, 1, null), Get(table, "a"));
    }

    [Fact]
    public void Random_histories_match_a_plain_map_and_a_copy_is_its_own()
    {
        var random = new Random(11);
        var kinds = new[] { LedgerKinds.Earn, LedgerKinds.Clawback, LedgerKinds.Redeem, LedgerKinds.BenefitUse, "custom" };
        var table = new CallerIdTable();
        var plain = new Dictionary<string, CallerIdRecord>();
        (CallerIdTable Table, Dictionary<string, CallerIdRecord> Plain)? copy = null;
        for (var step = 0; step < 4000; step++)
        {
            // Few distinct ids, so re-adds are common.
            var id = $"e-{random.Next(3000)}";
            var record = new CallerIdRecord(
                kinds[random.Next(kinds.Length)],
                random.Next(4) == 0 ? null : MemberRules.Hash(id, random.Next(3).ToString()),
                step,
                random.Next(5) == 0 ? $"{{\"n\":{step}}}" : null);
            Assert.Equal(plain.TryAdd(id, record), table.Add(id, record));
            if (step % 500 == 0) copy = (table.Copy(), new(plain));

            if (step % 20 != 0) continue;
            foreach (var (t, p) in new[] { (table, plain), copy!.Value })
            {
                Assert.Equal(p.Count, t.Count);
                foreach (var (key, expected) in p) Assert.Equal(expected, Get(t, key));
                for (var probe = 0; probe < 20; probe++)
                {
                    var other = $"e-{random.Next(3000)}";
                    Assert.Equal(p.ContainsKey(other), t.ContainsKey(other));
                }
            }
        }
    }

    private static CallerIdRecord Earn(long seq) => new(LedgerKinds.Earn, null, seq, null);

    private static CallerIdRecord Get(CallerIdTable table, string id)
    {
        Assert.True(table.TryGetValue(id, out var record), $"'{id}' not found");
        return record;
    }
}
