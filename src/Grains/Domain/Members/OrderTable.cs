using System.Collections;
using Orleans.Membership.Domain.Collections;

namespace Orleans.Membership.Domain.Members;

/// <summary>
/// A member's paid orders by order id, as refunds need them. A member gains one per purchase, so the rows
/// hold no references: an order's event type and counters (a handful of distinct ones per member) are a
/// number into a small list beside the rows, and the rows themselves are values in a
/// <see cref="KeyedRows{T}"/>, whose bigger arrays are then not young (<see cref="RowArrays"/>). Reads and
/// writes go by <see cref="OrderRecord"/>. Not thread-safe: only the member's own activation touches it.
/// </summary>
public sealed class OrderTable : IReadOnlyCollection<KeyValuePair<string, OrderRecord>>
{
    /// <summary>An order as stored: <see cref="OrderRecord"/> with its type and counters as <see cref="Kind"/>.</summary>
    private readonly struct Row
    {
        public int Kind { get; init; }
        public long EarnSeq { get; init; }
        public DateTimeOffset OccurredAt { get; init; }
        public decimal Paid { get; init; }
        public decimal Refunded { get; init; }
        public long Growth { get; init; }
        public long Points { get; init; }
        public decimal? GrowthFactor { get; init; }
        public decimal? PointsFactor { get; init; }
        public bool CountersTakenBack { get; init; }
    }

    private readonly KeyedRows<Row> _rows;
    /// <summary>The distinct (event type, counters) pairs of this member's orders; a row's kind is an index here.</summary>
    private readonly List<(string EventType, IReadOnlyDictionary<string, int>? Counters)> _kinds;

    public OrderTable() : this(new KeyedRows<Row>(), []) { }

    private OrderTable(KeyedRows<Row> rows, List<(string, IReadOnlyDictionary<string, int>?)> kinds)
    {
        _rows = rows;
        _kinds = kinds;
    }

    public int Count => _rows.Count;

    public OrderRecord this[string orderId] => TryGetValue(orderId, out var order) ? order : throw new KeyNotFoundException($"order '{orderId}' is not in the table");

    public bool ContainsKey(string orderId) => _rows.ContainsKey(orderId);

    public bool TryGetValue(string orderId, out OrderRecord order)
    {
        var found = _rows.TryGetValue(orderId, out var row);
        order = found ? Record(row) : default;
        return found;
    }

    /// <summary>Sets <paramref name="orderId"/> to <paramref name="order"/>: replaced where it is, or added at the end.</summary>
    public void SetItem(string orderId, OrderRecord order) => _rows.SetItem(orderId, new Row
    {
        Kind = KindOf(order.EventType, order.Counters),
        EarnSeq = order.EarnSeq,
        OccurredAt = order.OccurredAt,
        Paid = order.Paid,
        Refunded = order.Refunded,
        Growth = order.Growth,
        Points = order.Points,
        GrowthFactor = order.GrowthFactor,
        PointsFactor = order.PointsFactor,
        CountersTakenBack = order.CountersTakenBack,
    });

    /// <summary>Takes out the order added last (undoing that add). A kind it alone used stays listed, unused.</summary>
    public void RemoveLast() => _rows.RemoveLast();

    public static OrderTable From(IEnumerable<KeyValuePair<string, OrderRecord>> orders)
    {
        var table = new OrderTable();
        foreach (var (id, order) in orders)
        {
            if (table.ContainsKey(id)) throw new ArgumentException($"order '{id}' is listed twice", nameof(orders));
            table.SetItem(id, order);
        }
        return table;
    }

    /// <summary>A table of its own with the same orders.</summary>
    public OrderTable Copy() => new(_rows.Copy(), [.. _kinds]);

    public IEnumerator<KeyValuePair<string, OrderRecord>> GetEnumerator()
    {
        foreach (var (id, row) in _rows) yield return new(id, Record(row));
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private OrderRecord Record(in Row row)
    {
        var (eventType, counters) = _kinds[row.Kind];
        return new OrderRecord
        {
            EventType = eventType,
            EarnSeq = row.EarnSeq,
            OccurredAt = row.OccurredAt,
            Paid = row.Paid,
            Refunded = row.Refunded,
            Growth = row.Growth,
            Points = row.Points,
            GrowthFactor = row.GrowthFactor,
            PointsFactor = row.PointsFactor,
            Counters = counters,
            CountersTakenBack = row.CountersTakenBack,
        };
    }

    /// <summary>
    /// The index of (type, counters), added when new. Counters match by content: a replayed entry
    /// brings its own copy of the program's counters, and they are the same kind.
    /// </summary>
    private int KindOf(string eventType, IReadOnlyDictionary<string, int>? counters)
    {
        for (var i = 0; i < _kinds.Count; i++)
        {
            var (type, known) = _kinds[i];
            if (string.Equals(type, eventType, StringComparison.Ordinal) && SameCounters(known, counters)) return i;
        }
        _kinds.Add((eventType, counters));
        return _kinds.Count - 1;
    }

    private static bool SameCounters(IReadOnlyDictionary<string, int>? a, IReadOnlyDictionary<string, int>? b)
    {
        if (ReferenceEquals(a, b)) return true;
        if (a is null || b is null || a.Count != b.Count) return false;
        foreach (var (name, n) in a)
        {
            if (!b.TryGetValue(name, out var m) || m != n) return false;
        }
        return true;
    }
}
