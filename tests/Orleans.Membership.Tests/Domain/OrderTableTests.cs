using Orleans.Membership.Domain.Members;

namespace Orleans.Membership.Tests.Domain;

/// <summary>
/// A member's orders are kept as rows without references, their event type and counters as a number:
/// every field must read back as written, whatever mix of types and counters.
/// </summary>
public sealed class OrderTableTests
{
    private static readonly IReadOnlyDictionary<string, int> Stamps = new Dictionary<string, int> { ["stamps"] = 1 };

    private static OrderRecord Order(string type, long seq, IReadOnlyDictionary<string, int>? counters = null) => new()
    {
        EventType = type,
        EarnSeq = seq,
        OccurredAt = DateTimeOffset.UnixEpoch.AddHours(seq),
        Paid = 100.5m + seq,
        Refunded = seq % 2 == 0 ? 10m : 0m,
        Growth = seq * 3,
        Points = seq * 7,
        GrowthFactor = seq % 3 == 0 ? null : 1.5m,
        PointsFactor = seq % 4 == 0 ? null : 0.25m * seq,
        Counters = counters,
        CountersTakenBack = seq % 5 == 0,
    };

    [Fact]
    public void Every_field_reads_back_for_orders_of_several_types_and_counters()
    {
        var table = new OrderTable();
        var written = new List<KeyValuePair<string, OrderRecord>>();
        for (var seq = 1; seq <= 40; seq++)
        {
            var order = (seq % 3) switch
            {
                0 => Order("coffee-paid", seq, Stamps),
                // The same counters in a dictionary of its own (as a replayed entry brings them).
                1 => Order("coffee-paid", seq, new Dictionary<string, int> { ["stamps"] = 1 }),
                _ => Order("order-paid", seq, seq % 2 == 0 ? null : new Dictionary<string, int> { ["stamps"] = 2 }),
            };
            table.SetItem($"o-{seq}", order);
            written.Add(new($"o-{seq}", order));
        }

        Assert.Equal(40, table.Count);
        foreach (var (id, order) in written)
        {
            var read = table[id];
            Assert.Equal(Comparable(order), Comparable(read));
        }
        Assert.Equal(written.Select(kv => kv.Key), table.Select(kv => kv.Key));
        Assert.False(table.TryGetValue("never", out _));
        Assert.Throws<KeyNotFoundException>(() => table["never"]);
    }

    [Fact]
    public void A_refund_replaces_the_order_in_place_an_undone_add_is_gone_and_a_copy_is_its_own()
    {
        var table = OrderTable.From([new("a", Order("order-paid", 1)), new("b", Order("order-paid", 2))]);
        var copy = table.Copy();

        table.SetItem("a", table["a"] with { Refunded = 50m, Counters = Stamps, CountersTakenBack = true });
        table.SetItem("c", Order("coffee-paid", 3, Stamps));
        table.RemoveLast();

        Assert.Equal(["a", "b"], table.Select(kv => kv.Key));
        Assert.Equal(50m, table["a"].Refunded);
        Assert.Same(Stamps, table["a"].Counters);
        Assert.True(table["a"].CountersTakenBack);
        Assert.False(table.ContainsKey("c"));
        Assert.Equal(Comparable(Order("order-paid", 1)), Comparable(copy["a"]));
        Assert.Throws<ArgumentException>(() => OrderTable.From([new("a", Order("order-paid", 1)), new("a", Order("order-paid", 2))]));
    }

    private static object Comparable(OrderRecord o) => new
    {
        o.EventType, o.EarnSeq, o.OccurredAt, o.Paid, o.Refunded, o.Growth, o.Points, o.GrowthFactor, o.PointsFactor,
        Counters = o.Counters is null ? null : string.Join(",", o.Counters.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}")),
        o.CountersTakenBack,
    };
}
