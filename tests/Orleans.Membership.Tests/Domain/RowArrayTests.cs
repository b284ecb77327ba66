using Orleans.Membership.Domain.Collections;
using Orleans.Membership.Domain.Members;

namespace Orleans.Membership.Tests.Domain;

/// <summary>
/// A member's rows live in native memory: growing them must keep the rows and their owner, and leave
/// nothing new on the collector's heap.
/// </summary>
public sealed class RowArrayTests
{
    [Fact]
    public void Growing_keeps_the_rows_and_the_owner_zeroes_the_rest_and_a_copy_is_its_own()
    {
        var rows = RowArray<long>.New(4);
        for (var i = 0; i < 4; i++) rows[i] = i + 1;

        var copy = rows.CopyTo(count: 4, length: 4);
        var grown = rows.Grow(count: 3, length: 8);

        Assert.Same(rows, grown);
        Assert.Equal([1L, 2, 3, 0, 0, 0, 0, 0], grown.Span.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => grown[8]);
        copy[0] = 42;
        Assert.Equal([42L, 2, 3, 4], copy.Span.ToArray());
        Assert.Equal(1, grown[0]);

        var renewed = grown.Renew(16);
        Assert.Same(rows, renewed);
        Assert.Equal(new long[16], renewed.Span.ToArray());

        var fromEmpty = RowArray<long>.Empty.Grow(count: 0, length: 4);
        Assert.NotSame(RowArray<long>.Empty, fromEmpty);
        Assert.Equal(0, RowArray<long>.Empty.Length);
        Assert.Equal(4, fromEmpty.Length);
        Assert.Same(RowArray<long>.Empty, fromEmpty.Grow(count: 0, length: 0));
        Assert.Equal(0, fromEmpty.Length);

        Assert.Throws<ArgumentOutOfRangeException>(() => RowArray<long>.New(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => copy.Grow(count: 4, length: -1));
        grown.Free();
        Assert.Equal(0, grown.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => grown[0]);
        copy.Free();
        copy.Free(); // twice is harmless
        Assert.Equal(0, copy.Length);
    }

    [Fact]
    public void Native_bytes_are_counted_while_held_and_given_back_when_freed()
    {
        // 256 MB (zeroed pages the system hands out lazily), far more than other tests running beside this
        // one allocate or free meanwhile.
        const int Rows = 32 << 20;
        var before = RowArrays.Bytes;
        var rows = RowArray<long>.New(Rows);
        var held = RowArrays.Bytes;
        rows.Free();
        var after = RowArrays.Bytes;

        Assert.InRange(held - before, Rows * 8L - (32 << 20), Rows * 8L + (32 << 20));
        Assert.InRange(held - after, Rows * 8L - (32 << 20), Rows * 8L + (32 << 20));
    }

    [Fact]
    public void Appending_rows_allocates_nothing_on_the_collectors_heap_once_the_owners_exist()
    {
        var buckets = new RowList<PointBucket>();
        var orders = new OrderTable();
        var at = DateTimeOffset.UnixEpoch;
        // Warm up the code paths (and the JIT) and make the order ids before counting.
        buckets.Add(new PointBucket(0, at, null, 1));
        orders.SetItem("warm", Order("order-paid", 0));
        var orderIds = Enumerable.Range(0, 10_001).Select(i => $"order-{i}").ToArray();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 1; i <= 10_000; i++)
        {
            buckets.Add(new PointBucket(i, at.AddMinutes(i), at.AddDays(365), i));
            orders.SetItem(orderIds[i], Order("order-paid", i));
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // As arrays, the buckets alone were ~1.1 MB (10,000 rows of 56 bytes, doubled) and the orders ~3 MB;
        // with a new owner object per growth, 1,888 bytes.
        Assert.InRange(allocated, 0, 256);
        Assert.Equal(10_001, buckets.Count);
        Assert.Equal(10_000, buckets[10_000].Remaining);
        Assert.Equal(9_999, orders[orderIds[9_999]].EarnSeq);
    }

    private static OrderRecord Order(string type, long seq) => new()
    {
        EventType = type,
        EarnSeq = seq,
        OccurredAt = DateTimeOffset.UnixEpoch.AddMinutes(seq),
        Paid = 10m + seq,
    };
}
